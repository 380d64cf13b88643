"""Shared fixtures: the personas every view is tried with."""

import pytest
from django.contrib.auth.models import Group

from meterops.roles import STAFF, SUPERVISOR
from tests.factories import AccountFactory, CustomerFactory, UserFactory


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
