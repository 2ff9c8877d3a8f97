"""Catalog values stored as JSON text: id mappings come back as strings, whoever wrote them."""

from __future__ import annotations

import pytest

from omnistock.domain.errors import InvalidInputError
from omnistock.ledger.codec import decode_mapping, encode_mapping


def test_an_encoded_mapping_decodes_to_itself() -> None:
    ids = {"product_id": "12", "variation_id": "34"}
    assert decode_mapping(encode_mapping(ids)) == ids


@pytest.mark.parametrize("row", ['{"product_id": 12}', "[1, 2]", "{not json"])
def test_a_row_that_is_not_an_object_of_texts_fails_loudly(row: str) -> None:
    with pytest.raises(InvalidInputError, match="stored mapping"):
        decode_mapping(row)
