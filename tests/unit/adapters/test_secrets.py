"""Secret never shows its value except through reveal(); redact scrubs known values.

Every way a value reaches text by accident is tried: repr, str, format, logs, errors."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest

from omnistock.adapters.secrets import Secret, redact

VALUE = "cs_9f8e7d6c5b4a"


def test_reveal_gives_the_value() -> None:
    assert Secret(VALUE).reveal() == VALUE


def test_repr_and_str_hide_the_value() -> None:
    secret = Secret(VALUE)
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "Secret('***')"


@pytest.mark.parametrize("spec", ["", "s", ">40", "^12"])
def test_format_and_f_strings_hide_the_value(spec: str) -> None:
    secret = Secret(VALUE)
    assert f"{secret}" == "***"
    assert format(secret, spec) == "***"
    assert f"{secret:>40}" == "***"
    assert "{}".format(secret) == "***"  # noqa: UP032 - str.format is the point
    assert "%s" % secret == "Secret('***')"  # noqa: UP031 - printf formatting is the point


def test_containers_and_exceptions_hide_the_value() -> None:
    secret = Secret(VALUE)
    assert VALUE not in repr([secret, {"key": secret}])
    error = ValueError("bad credential", secret)
    assert VALUE not in str(error)
    assert VALUE not in repr(error)


def test_logging_hides_the_value(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("token %s %r", Secret(VALUE), Secret(VALUE))
    assert VALUE not in caplog.text
    assert "Secret('***')" in caplog.text


def test_pickling_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(VALUE))


def test_copies_are_the_same_secret() -> None:
    secret = Secret(VALUE)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"s": secret})["s"] is secret


def test_equality_and_hash_follow_the_value() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert Secret(VALUE) != Secret(VALUE + "x")
    assert Secret(VALUE) != VALUE  # never equal to the bare string
    assert len({Secret(VALUE), Secret(VALUE), Secret("other")}) == 2


def test_redact_replaces_every_occurrence_of_every_secret() -> None:
    text = f"GET /x?consumer_key=ck_1&consumer_secret={VALUE} failed; echo {VALUE}"
    assert redact(text, [Secret(VALUE), Secret("ck_1")]) == (
        "GET /x?consumer_key=***&consumer_secret=*** failed; echo ***"
    )


def test_redact_masks_url_encoded_forms() -> None:
    secret = Secret("a b/c+d")
    text = "q=a%20b%2Fc%2Bd form=a+b%2Fc%2Bd raw=a b/c+d"
    assert redact(text, [secret]) == "q=*** form=*** raw=***"


def test_redact_masks_a_longer_secret_whole_when_it_contains_a_shorter_one() -> None:
    assert redact("tok=abcdef", [Secret("abc"), Secret("abcdef")]) == "tok=***"


def test_redact_ignores_empty_secrets() -> None:
    assert redact("nothing here", [Secret("")]) == "nothing here"
