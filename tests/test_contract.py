"""Every endpoint checks what an API caller sends, whatever the widgets would have allowed."""
import math
import re

import pytest

from core import contract
from core.validation import MAX_TEXT_CHARS, InputError
from demos import DEMOS

ENDPOINTS = [endpoint for demo in DEMOS for endpoint in demo.ENDPOINTS]


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
    field = contract.ChoiceField("sampler", "Sampler", contract.choices(("DDIM", "DDPM")), "DDIM")
    assert field.checked("DDPM") == "DDPM"
    with pytest.raises(InputError, match="not one of DDIM, DDPM"):
        field.checked("../../etc/passwd")


def test_a_choice_is_sent_as_its_value_and_its_label_is_refused():
    field = contract.ChoiceField("agent", "Agent", (("policy", "PPO agent"), ("random", "Random agent")), "policy")
    assert field.checked("random") == "random"
    with pytest.raises(InputError, match="not one of policy, random"):
        field.checked("Random agent")


def test_an_integer_field_hands_the_demo_an_int_and_refuses_fractions():
    field = contract.NumberField("count", "Count", 1, 10, 3, integer=True)
    assert field.checked(4.0) == 4 and type(field.checked(4.0)) is int
    with pytest.raises(InputError, match="Count: expected a whole number, not 2.5"):
        field.checked(2.5)


def test_every_integer_field_of_every_demo_gives_its_demo_ints():
    fields = [field for endpoint in ENDPOINTS for field in endpoint.inputs
              if isinstance(field, contract.NumberField) and field.integer]
    assert len(fields) >= 8  # seeds, counts, steps, beams, sizes
    for field in fields:
        assert type(field.checked(float(field.default))) is int


def test_a_result_of_the_wrong_kind_or_count_breaks_the_contract_loudly():
    def endpoint(results):
        return contract.Endpoint(fn=lambda: results, inputs=(), outputs=(contract.TextOutput("Answer"),),
                                 insides=(contract.TableOutput("Scores"),))

    assert endpoint(("yes", [{"a": 1}, {"a": 2}])).run() == ("yes", [{"a": 1}, {"a": 2}])
    with pytest.raises(contract.ContractError, match="returned 1 values for 2"):
        endpoint(("yes",)).run()
    with pytest.raises(contract.ContractError, match="wrong kind of value for Scores"):
        endpoint(("yes", [{"a": 1}, {"b": 2}])).run()


def test_an_endpoint_without_insides_or_with_an_unknown_kind_of_inside_is_refused_at_registration():
    bare = contract.Endpoint(fn=lambda text: ("",), inputs=(contract.TextField("text", "Text"),),
                             outputs=(contract.TextOutput("Out"),))
    with pytest.raises(contract.ContractError, match="declares no insides"):
        contract.check_demo(_demo(ENDPOINTS=(bare,)))
    video_inside = contract.Endpoint(fn=lambda text: ("", b""), inputs=(contract.TextField("text", "Text"),),
                                     outputs=(contract.TextOutput("Out"),), insides=(contract.VideoOutput("Clip"),))
    with pytest.raises(contract.ContractError, match="insides are figures, images, tables or Markdown"):
        contract.check_demo(_demo(ENDPOINTS=(video_inside,)))


def test_a_demo_passes_progress_to_its_endpoint_only_when_it_asks_for_it():
    seen = []
    asks = contract.Endpoint(fn=lambda progress: (str(progress is not None),), inputs=(),
                             outputs=(contract.TextOutput("Out"),))
    assert asks.run(progress=seen.append) == ("True",)
    silent = contract.Endpoint(fn=lambda: ("ok",), inputs=(), outputs=(contract.TextOutput("Out"),))
    assert silent.run(progress=seen.append) == ("ok",)


def test_an_endpoint_refuses_a_bad_value_before_its_demo_runs():
    calls = []
    endpoint = contract.Endpoint(fn=lambda text, n: calls.append({"text": text, "n": n}) or (None,),
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
    endpoint = contract.Endpoint(fn=lambda text: ("", ""), inputs=(contract.TextField("text", "Text"),),
                                 outputs=(contract.TextOutput("Out"),), insides=(contract.MarkdownOutput("How"),))
    return SimpleNamespace(**{"__name__": "demos.toy", "CARD": card, "load": lambda: object(),
                              "ENDPOINTS": (endpoint,), **overrides})


def test_a_demo_whose_load_needs_an_argument_is_refused_at_registration():
    def load(game):
        return game

    with pytest.raises(contract.ContractError, match="load\\(\\) needs game"):
        contract.check_demo(_demo(load=load))


def test_an_endpoint_that_cannot_take_its_inputs_is_refused_at_registration():
    endpoint = contract.Endpoint(fn=lambda words: ("", ""), inputs=(contract.TextField("text", "Text"),),
                                 outputs=(contract.TextOutput("Out"),), insides=(contract.MarkdownOutput("How"),))
    with pytest.raises(contract.ContractError, match="takes no text"):
        contract.check_demo(_demo(ENDPOINTS=(endpoint,)))
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
        answer(Client(url, verbose=False), "style_transfer", partial_gallery.demos[0].ENDPOINTS[0], tmp_path)
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


def test_model_work_marked_with_another_demos_slug_is_refused_at_registration(monkeypatch):
    from core import engine
    from demos import style_transfer

    stray = engine.Work("emotion", style_transfer.stylize)  # a style-transfer function sent to emotion's replicas
    monkeypatch.setitem(engine.WORK, stray.key + "#stray", stray)
    with pytest.raises(contract.ContractError, match="model work of 'emotion'"):
        contract.check_demo(style_transfer)
