"""Style Transfer as a visitor uses it: an example photo, a style, a size, a download."""
import numpy as np
import pytest
from PIL import Image

from conftest import image_captions
from core.media import example_photo
from core.validation import InputError
from demos import style_transfer
from test_audio_digits import LEGIBLE_PX, smallest_text_px


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return example_photo("Astronaut")


@pytest.mark.parametrize("size", [256, 384])
def test_builtin_style_gives_the_requested_size(photo, size):
    result = style_transfer.stylize(photo, 19, size=size)
    assert max(result.image.size) == size
    assert result.device in {"cpu", "cuda"}
    # a real network changed the picture
    diff = np.abs(np.asarray(result.image, float) - np.asarray(result.content, float)).mean()
    assert diff > 10


def test_strength_zero_returns_the_photo(photo):
    result = style_transfer.stylize(photo, 5, size=256, strength=0.0)
    assert np.array_equal(np.asarray(result.image), np.asarray(result.content))


def test_blending_two_builtin_styles_mixes_their_weights(photo):
    result = style_transfer.stylize(photo, 3, 7, mix=0.25, size=128)
    weights = result.vectors["style weights"]
    assert weights[3] == pytest.approx(0.75) and weights[7] == pytest.approx(0.25)


def test_style_picture_interpolation_is_between_the_two_vectors(photo):
    style_a, style_b = example_photo("Coffee"), example_photo("Rocket")
    result = style_transfer.stylize(photo, style_a, style_b, mix=0.5, size=200)
    assert result.image.size == (200, 200)
    vectors = result.vectors
    expected = 0.5 * vectors["style A"] + 0.5 * vectors["style B"]
    assert np.allclose(vectors["applied"], expected, atol=1e-5)
    assert vectors["applied"].size == style_transfer.STYLE_VECTOR_SIZE


def test_explain_plots_the_style_vector(photo):
    figure = style_transfer.explain(style_transfer.stylize(photo, 2, size=128))
    assert figure.axes and figure.axes[0].patches  # one bar per built-in style
    ticks = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert ticks == list(style_transfer.BUILTIN_STYLE_NAMES)  # each bar under the name a visitor picks it by


def test_the_explanations_can_be_read_on_a_phone(photo):
    """Every text of both charts is legible with the chart a phone's width, and a legend hides no line."""
    builtin = style_transfer.explain(style_transfer.stylize(photo, 2, 19, mix=0.5, size=128))
    blend = style_transfer.explain(style_transfer.stylize(photo, example_photo("Gravel"), example_photo("Coffee"),
                                                          mix=0.5, size=128))
    for figure in (builtin, blend):
        assert smallest_text_px(figure) >= LEGIBLE_PX, figure.axes[0].get_title()
    axes = blend.axes[0]
    assert axes.get_legend().get_window_extent().y1 <= axes.xaxis.label.get_window_extent().y0  # under the plot


def test_every_builtin_style_has_its_own_name_and_api_value():
    names, slugs = style_transfer.BUILTIN_STYLE_NAMES, style_transfer.BUILTIN_STYLE_SLUGS
    assert len(set(names)) == len(set(slugs)) == style_transfer.BUILTIN_STYLE_COUNT == 26
    assert all(slug.replace("-", "").isalpha() and slug.islower() for slug in slugs)
    assert slugs[style_transfer.DEFAULT_STYLE] == "blue-swirls"


def test_a_blend_is_explained_by_the_vectors_that_steered_it(photo):
    """The plotted vectors are the prediction network's own for each picture, and their blend."""
    style_a, style_b = example_photo("Gravel"), example_photo("Colour wheel")
    result = style_transfer.stylize(photo, style_a, style_b, mix=0.25, size=128)
    plotted = {line.get_label(): line.get_ydata() for line in style_transfer.explain(result).axes[0].lines}
    vector_a, vector_b = (np.ravel(style_transfer.style_vector(style)) for style in (style_a, style_b))
    np.testing.assert_allclose(plotted["style A"], vector_a, rtol=1e-5)
    np.testing.assert_allclose(plotted["style B"], vector_b, rtol=1e-5)
    np.testing.assert_allclose(plotted["applied"], 0.75 * vector_a + 0.25 * vector_b, rtol=1e-4, atol=1e-6)


def test_mixing_a_builtin_style_with_a_picture_is_refused(photo):
    with pytest.raises(InputError, match="not one of each"):
        style_transfer.stylize(photo, 3, example_photo("Coffee"), mix=0.5)


def test_a_hairline_image_is_refused_with_a_message():
    with pytest.raises(InputError, match="too narrow"):
        style_transfer.stylize(Image.new("RGB", (4000, 20)), 0, size=256)


def test_page_stylises_an_example_photo_at_the_chosen_size(gallery):
    app = gallery.switch_page("views/style_transfer.py").run()
    assert not app.exception
    app.select_slider[0].set_value(256).run()
    assert not app.exception
    assert any("256x256" in caption for caption in image_captions(app))
    assert any("Ran on" in caption.value for caption in app.caption)


def test_page_offers_the_styles_by_name(gallery):
    app = gallery.switch_page("views/style_transfer.py").run()
    chosen = [button.label for button in app.button if button.proto.type == "primary"]
    assert chosen == ["Blue swirls"]  # the default, under its thumbnail
    assert set(style_transfer.BUILTIN_STYLE_NAMES) <= {button.label for button in app.button}
    app.button(key="style_a_6").click().run()
    app.checkbox[0].check().run()
    assert not app.exception
    assert [button.label for button in app.button if button.proto.type == "primary"] == ["Navy dots"]
    second = next(box for box in app.selectbox if box.label == "Second style")
    assert second.options == list(style_transfer.BUILTIN_STYLE_NAMES)


def test_page_blends_two_style_pictures_and_explains_the_vectors(gallery):
    app = gallery.switch_page("views/style_transfer.py").run()
    app.toggle[0].set_value(True).run()
    app.checkbox[0].check().run()
    assert not app.exception
    assert app.get("download_button"), "the stylised picture can be downloaded"
    assert any("Stylised" in caption for caption in image_captions(app))
    assert app.expander[0].get("image"), "the style vectors that steered the blend are drawn under How it works"


def endpoint_results(**values) -> tuple:
    """The endpoint's outputs and insides, called as the API is: the defaults and the 'Coffee' photo, unless given."""
    endpoint = style_transfer.ENDPOINTS[0]
    defaults = {field.name: getattr(field, "default", None) for field in endpoint.inputs}
    return endpoint.run(**defaults | {"photo": example_photo("Coffee")} | values)


def test_the_endpoint_shows_the_pages_insides_for_its_sample_call():
    image, details, content, figure, how_it_works = endpoint_results()
    page_result = style_transfer.stylize(example_photo("Coffee"), style_transfer.DEFAULT_STYLE)
    assert details["style"] == "blue-swirls" and image.size == page_result.image.size
    assert np.array_equal(np.asarray(content), np.asarray(page_result.content))  # the photo as the network saw it
    bars = [bar.get_height() for bar in figure.axes[0].patches]
    np.testing.assert_allclose(bars, page_result.vectors["style weights"])  # the weights explain() plots
    assert how_it_works == style_transfer.HOW_IT_WORKS


def test_the_endpoint_explains_a_style_picture_by_its_style_vector():
    style = example_photo("Rocket")
    *_, figure, _ = endpoint_results(size=128, style_image=style)
    plotted = {line.get_label(): line.get_ydata() for line in figure.axes[0].lines
               if not line.get_label().startswith("_")}  # not the zero line
    assert list(plotted) == ["style A", "applied"]
    np.testing.assert_allclose(plotted["style A"], np.ravel(style_transfer.style_vector(style)), rtol=1e-5)


def test_the_api_takes_a_styles_name_not_its_number_and_a_whole_size():
    _, details, *_ = endpoint_results(style="navy-dots", size=128)
    assert details["style"] == "navy-dots"
    for old_value in ("19", "#19", "Blue swirls"):  # the old number, the old label, the label of the new value
        with pytest.raises(InputError, match="not one of golden-patchwork, yellow-and-black-branches"):
            endpoint_results(style=old_value)
    with pytest.raises(InputError, match="expected a whole number, not 300.5"):
        endpoint_results(size=300.5)
