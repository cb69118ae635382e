"""The clustering lab: its step-by-step k-means ends where scikit-learn's does from the same centres,
DBSCAN finds the shapes k-means cannot, and a visitor's digit lands among digits like it."""
import json

import numpy as np
import pytest
from gradio_client import handle_file
from sklearn.cluster import KMeans
from sklearn.neighbors import KNeighborsClassifier

import demos.clustering_lab as lab
from core.memo import RESULTS
from core.points import standardised, toy_points
from core.validation import InputError
from demos.clustering_lab.digits import TSNE_KEY, as_digit, digit_picture, load, tsne_map
from demos.clustering_lab.kmeans import initial_centres, kmeans_steps


@pytest.mark.parametrize("data, k, init", [("blobs", 3, "random points"), ("moons", 4, "random points"),
                                           ("digits", 10, "k-means++")])
def test_kmeans_ends_where_scikit_learn_ends_from_the_same_centres(data, k, init):
    points = load().images if data == "digits" else standardised(toy_points(data, 300, 0.3)).xy
    centres = initial_centres(points, k, init, seed=4)
    final = kmeans_steps(points, centres)[-1]
    reference = KMeans(k, init=centres, n_init=1, algorithm="lloyd", max_iter=300, tol=0).fit(points)
    np.testing.assert_allclose(final.centres, reference.cluster_centers_, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(final.labels, reference.labels_)
    assert final.inertia == pytest.approx(reference.inertia_)


def test_kmeans_alternates_assign_and_move_and_never_raises_the_inertia():
    history = kmeans_steps(standardised(toy_points("blobs", 300, 0.4)).xy,
                           initial_centres(standardised(toy_points("blobs", 300, 0.4)).xy, 3, "random points"))
    assert [step.phase for step in history[:5]] == ["start", "assign", "move", "assign", "move"]
    assert history[-1].phase == "assign"
    inertias = [step.inertia for step in history[1:]]
    assert all(later <= earlier + 1e-9 for earlier, later in zip(inertias, inertias[1:]))


def test_dbscan_finds_the_two_moons_that_kmeans_cuts_across():
    result = lab.cluster_toys(toy_points("moons", 300, 0.05), k=2, init="k-means++", eps=0.3, min_samples=5)
    kmeans_score, dbscan_score = (row["adjusted Rand index"] for row in result.scores())
    assert dbscan_score > 0.95 > 0.6 > kmeans_score


def test_a_digit_from_the_data_set_drawn_large_lands_next_to_its_own_kind():
    digits = load()
    rows = np.random.default_rng(0).choice(len(digits.labels), 60, replace=False)
    votes = [lab.place_digit(digit_picture(digits.images[row], side=160), 5).vote for row in rows]
    assert np.mean(np.array(votes) == digits.labels[rows]) >= 0.9


def test_the_visitors_digit_is_read_dark_on_light_or_light_on_dark():
    dark_on_light = lab.example_digit("1")
    light_on_dark = dark_on_light.point(lambda value: 255 - value)
    np.testing.assert_allclose(as_digit(dark_on_light), as_digit(light_on_dark), atol=0.5)
    assert as_digit(dark_on_light).max() == pytest.approx(16)


def test_a_blank_picture_is_refused_with_a_message():
    with pytest.raises(InputError, match="No digit found"):
        as_digit(lab.example_digit("1").point(lambda value: 255))


def test_the_shipped_tsne_map_keeps_digits_among_their_own_kind_better_than_pca():
    """A real t-SNE of these digits: a 5-nearest-neighbour vote on the map names a digit's class far more often
    than on the PCA map."""
    tsne_xy, digits = tsne_map(), load()
    assert tsne_xy.shape == (len(digits.labels), 2) and TSNE_KEY in RESULTS

    def neighbours_agree(xy):
        return KNeighborsClassifier(6).fit(xy, digits.labels).predict(xy).__eq__(digits.labels).mean()

    assert neighbours_agree(tsne_xy) > 0.95 > 0.8 > neighbours_agree(digits.pca_xy)


def test_kmeans_on_digits_finds_average_digits():
    found = lab.cluster_digits(10)
    assert found.rand_index > 0.5 and len(set(found.usual_digits)) >= 8


def test_page_steps_through_kmeans_and_places_an_example_digit(gallery):
    app = gallery.switch_page("views/clustering_lab.py").run()
    assert not app.exception and not app.error
    half_step = next(slider for slider in app.slider if slider.label.startswith("Half-step"))
    half_step.set_value(0).run()
    assert not app.exception
    next(box for box in app.selectbox if box.label == "Your digit: example").set_value(
        "The digit 2, typed in a font").run()
    assert app.metric[0].label == "Its nearest digits say" and app.metric[0].value == "2"
    next(control for control in app.segmented_control if control.label == "Map").set_value("PCA").run()
    assert not app.exception and app.metric[0].value == "2"


def test_gradio_clusters_toys_and_places_an_uploaded_digit(gradio_client, tmp_path):
    _, details, *_ = gradio_client.predict("blobs", 300, 0.2, 3, "k-means++", 100, 0.3, 5, "",
                                           api_name="/clustering_lab")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["shown"] == details["half-steps to converge"]  # past the end: the end
    path = tmp_path / "my seven.png"
    digit_picture(load().images[load().labels == 7][0], side=200).save(path)
    _, placed, *_ = gradio_client.predict("PCA", 10, 8, handle_file(str(path)), api_name="/clustering_lab_digits")
    placed = placed if isinstance(placed, dict) else json.loads(placed)
    assert placed["nearest digits vote"] == 7 and placed["your digit"] == "uploaded"
