from django.db import migrations


def install(apps, schema_editor):
    from devices.catalog import install_meter_models

    install_meter_models(
        apps.get_model("devices", "MeterModel"),
        apps.get_model("devices", "RegisterMapEntry"),
    )


class Migration(migrations.Migration):
    dependencies = [("devices", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
