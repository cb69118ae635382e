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


def test_every_registered_demo_keeps_the_contract():
    from demos import CARDS

    for demo, card in zip(DEMOS, CARDS):
        contract.check_demo(demo, card)


def _demo(**overrides):
    from types import SimpleNamespace

    card = contract.DemoCard("toy", "Toy", "🧸", "A toy.", ("test",), ("text",))
    endpoint = contract.Endpoint(fn=lambda text: ("",), inputs=(contract.TextField("text", "Text"),),
                                 outputs=(contract.TextOutput("Out"),))
    return SimpleNamespace(**{"__name__": "demos.toy", "CARD": card, "load": lambda: object(),
                              "ENDPOINT": endpoint, **overrides})


def test_a_demo_whose_load_needs_an_argument_is_refused_at_registration():
    def load(game):
        return game

    with pytest.raises(contract.ContractError, match="load\\(\\) needs game"):
        contract.check_demo(_demo(load=load))


def test_an_endpoint_that_cannot_take_its_inputs_is_refused_at_registration():
    endpoint = contract.Endpoint(fn=lambda words: ("",), inputs=(contract.TextField("text", "Text"),),
                                 outputs=(contract.TextOutput("Out"),))
    with pytest.raises(contract.ContractError, match="takes no text"):
        contract.check_demo(_demo(ENDPOINT=endpoint))
    with pytest.raises(contract.ContractError, match="CARD is not a DemoCard"):
        contract.check_demo(_demo(CARD={"slug": "toy"}))
    contract.check_demo(_demo())


def test_no_registered_demo_is_broken():
    from demos import registry

    assert registry().broken == ()


def test_a_demo_that_fails_to_import_becomes_an_error_tab_and_the_others_still_answer(tmp_path):
    from gradio_client import Client

    import demos
    import gradio_app
    from endpoint_samples import answer

    partial_gallery = demos.register(("no_such_demo", "style_transfer"))
    assert [broken.card.slug for broken in partial_gallery.broken] == ["no_such_demo"]
    app = gradio_app.build(partial_gallery)
    _, url, _ = app.launch(prevent_thread_lock=True, server_name="127.0.0.1", quiet=True)
    try:
        assert gradio_app.UNAVAILABLE in str(app.config)
        answer(Client(url, verbose=False), "style_transfer", partial_gallery.demos[0].ENDPOINT, tmp_path)
    finally:
        app.close()


def test_a_demo_whose_card_cannot_be_read_gets_an_error_card_on_the_home_page(gallery, monkeypatch):
    import demos

    monkeypatch.setattr(demos, "CARDS", demos.read_cards(("no_such_demo", "style_transfer")))
    app = gallery.run()
    assert not app.exception
    assert [warning.value for warning in app.warning] == ["This demo could not be loaded on this server; "
                                                          "the others work."]
    assert "🎨 Neural Style Transfer" in [heading.value for heading in app.subheader]
