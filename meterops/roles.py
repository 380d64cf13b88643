"""The office's roles as Django groups, kept in step with their permissions.

Staff (抄表核算员) watch collection and start bill runs; supervisors
(审核) also approve or reject held bills. Customers have no group: they see
only their own records through the portal.
"""

from django.contrib.auth.models import Group, Permission

STAFF = "staff"
SUPERVISOR = "supervisor"

STAFF_PERMISSIONS = [
    "customers.view_customer",
    "customers.view_account",
    "devices.view_concentrator",
    "devices.view_meter",
    "devices.view_reading",
    "devices.add_reading",
    "billing.view_bill",
    "billing.view_billrun",
    "billing.add_billrun",
]
SUPERVISOR_PERMISSIONS = [*STAFF_PERMISSIONS, "billing.approve_bill"]


def _permissions(names):
    found = []
    for name in names:
        app_label, codename = name.split(".")
        found.append(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return found


def ensure_roles(**kwargs):
    """Create the staff and supervisor groups and give each its permissions."""
    for group_name, names in (
        (STAFF, STAFF_PERMISSIONS),
        (SUPERVISOR, SUPERVISOR_PERMISSIONS),
    ):
        group, _created = Group.objects.get_or_create(name=group_name)
        group.permissions.set(_permissions(names))


def is_office_user(user) -> bool:
    """Return True for staff and supervisors: users who see every account."""
    return user.is_authenticated and (
        user.is_superuser or user.groups.filter(name__in=[STAFF, SUPERVISOR]).exists()
    )
