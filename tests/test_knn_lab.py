"""The kNN lab: its classifier agrees with scikit-learn's, its curves show over- and underfitting, and a
visitor's CSV is read or refused with a message."""
import json

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from conftest import as_shown
from core.points import MAX_POINT_ROWS, Points, read_points_csv, split, toy_points
from core.validation import InputError
from demos import knn_lab as lab


@pytest.fixture(scope="module")
def three_classes() -> Points:
    """Overlapping blobs with continuous coordinates: no two distances tie, so every kNN picks the same points."""
    return toy_points("blobs", 400, spread=0.3, label_noise=0.1, seed=3)


@pytest.mark.parametrize("k", [1, 4, 15, 60])
def test_knn_predictions_match_scikit_learn(three_classes, k):
    train, test = split(three_classes, 0.3, seed=0)
    queries = np.random.default_rng(0).uniform(-12, 12, size=(500, 2))
    reference = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(train.xy, train.labels)
    for xy in (test.xy, queries):
        np.testing.assert_array_equal(lab.knn_predict(train, xy, k), reference.predict(xy))


def test_error_curves_match_scikit_learn_scores(three_classes):
    train, test = split(three_classes, 0.3, seed=0)
    curve = lab.knn_error_curve(train, test)
    for k in (1, 7, 40, lab.MAX_K):
        reference = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(train.xy, train.labels)
        assert curve.at(k) == pytest.approx((1 - reference.score(train.xy, train.labels),
                                             1 - reference.score(test.xy, test.labels)))
    tree_curve = lab.tree_error_curve(train, test)
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(train.xy, train.labels)
    assert tree_curve.at(3) == pytest.approx((1 - tree.score(train.xy, train.labels),
                                              1 - tree.score(test.xy, test.labels)))


def test_one_neighbour_learns_noisy_labels_by_heart_and_generalises_worse_than_the_best_k():
    result = lab.explore(toy_points("moons", 400, spread=0.25, label_noise=0.2), k=1, depth=4)
    train_error, test_error = result.knn_curve.at(1)
    assert train_error == 0
    assert result.knn_curve.best > 1
    assert result.knn_curve.at(result.knn_curve.best)[1] < test_error


def test_a_deeper_tree_never_makes_more_training_mistakes():
    train, test = split(toy_points("circles", 300, spread=0.3, label_noise=0.1), 0.3)
    assert np.all(np.diff(lab.tree_error_curve(train, test).train_error) <= 1e-12)


def test_the_boundary_covers_every_point_with_the_chosen_k(three_classes):
    result = lab.explore(three_classes, k=9, depth=5)
    assert result.regions[9].shape == (lab.GRID_STEPS ** 2,)
    low, high = result.grid.points.min(axis=0), result.grid.points.max(axis=0)
    assert np.all(three_classes.xy >= low) and np.all(three_classes.xy <= high)
    assert set(lab.STRIP_KS) <= set(result.regions)


def test_k_larger_than_the_training_set_is_capped():
    points = read_points_csv("\n".join(f"{i},{i % 3},{'ab'[i % 2]}" for i in range(12)))
    result = lab.explore(points, k=50, depth=2)
    assert result.k == len(result.train) < 50


def test_a_visitors_csv_with_a_header_and_word_labels_is_read():
    points = read_points_csv("x,y,label\n" + "\n".join(f"{i / 10},{i % 5},{'cat' if i % 2 else 'dog'}"
                                                        for i in range(20)))
    assert points.classes == ("cat", "dog") and len(points) == 20
    assert points.xy[3].tolist() == [0.3, 3.0] and points.classes[points.labels[3]] == "cat"


@pytest.mark.parametrize("csv_text, message", [
    ("x,y,label\n1,2,a\nnan,3,b\n" + "1,1,a\n" * 20, "Line 3: x and y must be finite numbers, not nan, 3"),
    ("1,2,a\n" * 5 + "one,2,b\n" + "1,1,b\n" * 20, "Line 6: x and y must be finite numbers, not one, 2"),
    ("1,2\n" * 20, "Line 1: expected three values"),
    ("1,2,a\n" * 20, "2 to 8 different labels; these have 1"),
    ("1,2,a\n2,1,b\n", "at least 10 points"),
    ("1,2,a\n" * (MAX_POINT_ROWS + 1), f"{MAX_POINT_ROWS + 1:,} points; the limit is {MAX_POINT_ROWS:,}"),
])
def test_bad_csv_is_refused_with_a_message(csv_text, message):
    with pytest.raises(InputError, match=message):
        read_points_csv(csv_text)


def test_the_endpoint_answers_with_every_inside_and_prefers_the_visitors_points():
    results = lab.ENDPOINTS[0].run(toy_set="moons", count=200, spread=0.2, label_noise=0.1, k=5, depth=3,
                                   csv_text="")
    assert len(results) == len(lab.ENDPOINTS[0].results)
    assert results[1]["training points"] + results[1]["test points"] == 200
    own = "\n".join(f"{i},{i % 4},{i % 2}" for i in range(30))
    details = lab.ENDPOINTS[0].run(toy_set="moons", count=200, spread=0.2, label_noise=0.1, k=5, depth=3,
                                   csv_text=own)[1]
    assert details["training points"] + details["test points"] == 30


def test_page_shows_the_boundary_and_the_errors_and_k_one_learns_by_heart(gallery):
    app = gallery.switch_page("views/knn_lab.py").run()
    assert not app.exception and not app.error
    assert [metric.label for metric in app.metric] == ["Training error", "Test error", "Best k (lowest test error)"]
    next(slider for slider in app.slider if slider.label.startswith("k (")).set_value(1).run()
    assert app.metric[0].value == "0%"


def test_page_refuses_a_pasted_csv_with_text_for_a_number(gallery):
    app = gallery.switch_page("views/knn_lab.py").run()
    app.segmented_control[0].set_value("Paste").run()
    assert not app.error and app.metric  # the example CSV it offers works
    app.text_area[0].set_value("x,y,label\n" + "1,2,a\n" * 5 + "1,two,b\n" + "2,1,b\n" * 10).run()
    assert "Line 7: x and y must be finite numbers" in as_shown(app.error[0].value)


def test_gradio_api_answers_and_explains_a_bad_csv(gradio_client):
    figure, details, *insides = gradio_client.predict("circles", 200, 0.2, 0.1, 7, 3, "", api_name="/knn_lab")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["k"] == 7 and details["training points"] == 140 and len(insides) == 5
    with pytest.raises(Exception, match="x and y must be finite numbers"):
        gradio_client.predict("circles", 200, 0.2, 0.1, 7, 3, "1,2,a\nnan,1,b\n" + "0,0,a\n" * 10,
                              api_name="/knn_lab")
