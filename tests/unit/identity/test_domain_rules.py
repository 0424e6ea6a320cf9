"""Domain rules for accounts: emails, names, roles, plans and the password policy."""

from __future__ import annotations

import pytest

from domain.api_keys import clean_key_name, looks_like_api_key
from domain.errors import InvalidInput
from domain.passwords import WeakPassword, check_password, common_passwords
from domain.users import (
    InvalidPlan,
    InvalidRole,
    check_plan,
    check_role,
    clean_display_name,
    normalise_email,
)


def test_emails_are_trimmed_and_lowercased() -> None:
    assert normalise_email("  Ann.Lee@Example.ORG ") == "ann.lee@example.org"


@pytest.mark.parametrize("bad", ["", "ann", "ann@", "@x.org", "ann@x", "a b@x.org", "a@@x.org"])
def test_malformed_emails_are_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(bad)
    assert caught.value.code == "VALIDATION_ERROR"
    assert caught.value.details == {
        "fields": [{"field": "email", "message": "not a valid email address"}]
    }


def test_an_email_longer_than_254_characters_is_refused() -> None:
    with pytest.raises(InvalidInput):
        normalise_email("a" * 250 + "@x.org")


def test_display_name_defaults_to_the_local_part_of_the_email() -> None:
    assert clean_display_name(None, "ann@x.org") == "ann"
    assert clean_display_name("   ", "ann@x.org") == "ann"
    assert clean_display_name("  Ann Lee ", "ann@x.org") == "Ann Lee"


def test_display_names_with_control_characters_or_too_long_are_refused() -> None:
    with pytest.raises(InvalidInput):
        clean_display_name("evil\x1b[31m", "a@x.org")
    with pytest.raises(InvalidInput):
        clean_display_name("n" * 101, "a@x.org")


def test_only_user_and_admin_are_roles() -> None:
    assert check_role("admin") == "admin"
    with pytest.raises(InvalidRole) as caught:
        check_role("root")
    assert caught.value.code == "INVALID_ROLE"


def test_plans_must_be_configured_ones() -> None:
    assert check_plan("pro", ("free", "pro")) == "pro"
    with pytest.raises(InvalidPlan):
        check_plan("platinum", ("free", "pro"))


@pytest.mark.parametrize("length", [8, 64, 128])
def test_passwords_of_8_to_128_characters_are_accepted(length: int) -> None:
    check_password(("Zq7#kLmw" * 16)[:length])


@pytest.mark.parametrize("password", ["", "x9!Kq2m", "x9!Kq2mZ" * 16 + "a"])
def test_passwords_shorter_than_8_or_longer_than_128_are_weak(password: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password(password)
    assert caught.value.code == "WEAK_PASSWORD"


@pytest.mark.parametrize("common", ["password", "Password1", "QWERTY123", "iloveyou", "12345678"])
def test_common_passwords_are_refused_whatever_their_case(common: str) -> None:
    with pytest.raises(WeakPassword):
        check_password(common)


def test_no_composition_rules_a_long_lowercase_passphrase_is_fine() -> None:
    check_password("purple monkey dishwasher")


def test_the_email_itself_is_not_a_password() -> None:
    with pytest.raises(WeakPassword):
        check_password("annabelle@x.org", email="annabelle@x.org")
    with pytest.raises(WeakPassword):
        check_password("annabelle", email="annabelle@x.org")


def test_the_shipped_common_password_list_has_about_a_thousand_usable_entries() -> None:
    listed = common_passwords()
    assert len(listed) >= 1000
    assert all(len(p) >= 8 for p in listed)
    assert all(p == p.lower() for p in listed)


def test_api_key_names_are_trimmed_and_bounded() -> None:
    assert clean_key_name("  ci bot ") == "ci bot"
    with pytest.raises(InvalidInput):
        clean_key_name("   ")
    with pytest.raises(InvalidInput):
        clean_key_name("k" * 101)


def test_api_keys_are_recognised_by_their_prefix() -> None:
    assert looks_like_api_key("pk_abc")
    assert not looks_like_api_key("eyJhbGciOi")
