"""Shared fixtures: the personas every view is tried with."""

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from meterops.roles import STAFF, SUPERVISOR
from tests.factories import AccountFactory, CustomerFactory, UserFactory


@pytest.fixture(autouse=True)
def english(settings):
    """Run tests in English so they can match messages; tests of the zh-Hans
    catalog switch back to Chinese themselves."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def staff_user(db):
    user = UserFactory(username="staff")
    user.groups.add(Group.objects.get(name=STAFF))
    return user


@pytest.fixture
def supervisor(db):
    user = UserFactory(username="supervisor")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


@pytest.fixture
def second_supervisor(db):
    user = UserFactory(username="supervisor2")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


@pytest.fixture
def customer_user(db):
    user = UserFactory(username="customer")
    customer = CustomerFactory(user=user)
    AccountFactory(customer=customer)
    return user


@pytest.fixture
def other_customer_user(db):
    user = UserFactory(username="other-customer")
    customer = CustomerFactory(user=user)
    AccountFactory(customer=customer)
    return user
