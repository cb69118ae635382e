"""Every endpoint checks what an API caller sends, whatever the widgets would have allowed."""
import math
import re

import pytest

from core import contract
from core.validation import MAX_TEXT_CHARS, InputError
from demos import DEMOS

ENDPOINTS = [endpoint for demo in DEMOS for endpoint in (demo.ENDPOINT, *getattr(demo, "EXTRA_ENDPOINTS", ()))]


def test_a_text_field_allows_what_a_pasted_text_may_hold():
    assert contract.MAX_FIELD_CHARS == MAX_TEXT_CHARS


@pytest.mark.parametrize("value", [math.nan, math.inf, -1e9, 1e12, "12", True, None])
def test_numbers_outside_a_slider_are_refused_by_every_numeric_field(value):
    fields = [field for endpoint in ENDPOINTS for field in endpoint.inputs if isinstance(field, contract.NumberField)]
    assert fields
    for field in fields:
        with pytest.raises(InputError, match=re.escape(field.label[:20])):
            field.checked(value)


def test_numbers_inside_the_range_pass_unchanged():
    field = contract.NumberField("steps", "Steps", 1, 1000, 25)
    assert field.checked(1) == 1 and field.checked(1000) == 1000 and field.checked(25.0) == 25.0


def test_choices_not_offered_are_refused():
    field = contract.ChoiceField("sampler", "Sampler", ("DDIM", "DDPM"), "DDIM")
    assert field.checked("DDPM") == "DDPM"
    with pytest.raises(InputError, match="not one of DDIM, DDPM"):
        field.checked("../../etc/passwd")


def test_an_endpoint_refuses_a_bad_value_before_its_demo_runs():
    calls = []
    endpoint = contract.Endpoint(fn=lambda **values: calls.append(values) or (None,),
                                 inputs=(contract.TextField("text", "Text"), contract.NumberField("n", "N", 1, 5, 2)),
                                 outputs=(contract.TextOutput("Out"),))
    with pytest.raises(InputError, match="Text: the text is too long"):
        endpoint.run(text="x" * (MAX_TEXT_CHARS + 1), n=2)
    with pytest.raises(InputError, match="N: 6 is outside 1-5"):
        endpoint.run(text="fine", n=6)
    assert calls == []
    endpoint.run(text="fine", n=3)
    assert calls == [{"text": "fine", "n": 3}]
