"""The page tests' contracts: between Ada Lovelace (``client_user``) and Grace Hopper
(``freelancer``), with Mallory Outsider (``stranger``) party to neither (people of
tests/fixtures/people.py). ``hourly`` and ``fixed`` here are theirs, not Clara's and
Felix's of tests/fixtures/contracts.py."""

import pytest

from tests.factories import FixedContractFactory, HourlyContractFactory


@pytest.fixture
def hourly(client_user, freelancer):
    return HourlyContractFactory(client=client_user, freelancer=freelancer, title="Build the API")


@pytest.fixture
def fixed(client_user, freelancer):
    return FixedContractFactory(client=client_user, freelancer=freelancer, title="Design the logo")
