"""View decorators shared by the office pages."""

from django.contrib.auth.decorators import login_required, permission_required


def office_permission_required(permission: str):
    """Send anonymous users to log in, and return 403 to users without `permission`."""

    def decorate(view):
        return login_required(
            permission_required(permission, raise_exception=True)(view)
        )

    return decorate
