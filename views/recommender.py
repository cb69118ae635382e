"""Movie Recommender page: widgets only; the work is in demos.recommender."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.validation import InputError
from demos import recommender as demo
from ui import streamlit_kit as kit

COMPARED = ("rank", "movie", "score", "fans")  # what three lists side by side show: a third of the page each

kit.page_header(demo.CARD)

with st.expander("Model settings: factors, regularisation, iterations (refit on demand)"):
    with st.form("recommender_settings_form"):
        chosen = st.session_state.get("recommender_settings", demo.DEFAULT_SETTINGS)
        factors = st.select_slider("Latent factors (vector length)", sorted({2, 8, 16, 32, 64, 128, chosen.factors}),
                                   value=chosen.factors)
        regularization = st.select_slider("Regularisation", sorted({0.01, 0.1, 1.0, 10.0, 30.0, 100.0,
                                                                    chosen.regularization}),
                                          value=chosen.regularization)
        iterations = st.slider("ALS iterations", 1, 50, chosen.iterations)
        alpha = st.select_slider("Confidence of a like (alpha)",
                                 sorted({1.0, 2.0, 5.0, 10.0, 20.0, 40.0, chosen.alpha}), value=chosen.alpha)
        if st.form_submit_button("Refit with these settings", icon=":material/model_training:"):
            st.session_state["recommender_settings"] = demo.Settings(factors, regularization, iterations, alpha)
settings = st.session_state.get("recommender_settings", demo.DEFAULT_SETTINGS)

with kit.user_errors():
    fitting = st.progress(0.0, text=demo.FITTING)
    recommender = demo.fitted(settings, progress=lambda progress: fitting.progress(progress.fraction,
                                                                                   text=progress.note))
    fitting.empty()
    example_picks = demo.resolve_titles(recommender.catalogue, demo.EXAMPLE_PICKS)
catalogue = recommender.catalogue
st.caption(f"ALS with {settings.factors} factors, regularisation {settings.regularization:g}, "
           f"{settings.iterations} iterations, alpha {settings.alpha:g}: fitted on {recommender.fit_device.upper()} "
           f"in {recommender.fit_seconds:.2f} s on {catalogue.likes.nnz:,} likes by {catalogue.likes.shape[0]} users.")

picks = st.multiselect("Movies you like (type to search)", demo.pick_options(catalogue), default=example_picks,
                       format_func=lambda movie: demo.describe(catalogue, movie), key="recommender_picks",
                       max_selections=demo.MAX_PICKS)
typed = st.text_input("…or type titles, separated by ;", placeholder="The Matrix; Alien (1979)")
upload = st.file_uploader(
    "…or upload a list of movies you like", type=demo.TITLE_LIST_TYPES, key="recommender_list",
    help="A .txt with one title per line, or a .csv with a Title, Name or Movie column and, to tell remakes "
         "apart, a Year column, as in IMDb's ratings export and Letterboxd's. Up to "
         f"{demo.MAX_PICKS} titles are read; titles not in MovieLens (movies up to 2016) are skipped.")
count = st.slider("How many recommendations", 5, 30, 10)
compare = st.toggle("Compare ALS with the two baselines (most popular, user-based CF)")

with kit.user_errors():
    listed, list_notices = demo.picks_from_list(catalogue, upload.name, upload.getvalue()) if upload else ([], [])
    picks = list(dict.fromkeys(picks + demo.resolve_titles(catalogue, demo.split_titles(typed)) + listed))
    methods = list(demo.METHOD_NAMES) if compare else ["als"]
    results = {method: demo.recommend(recommender, picks, count, method) for method in methods}

result = results["als"]
for note in list_notices + result.notes:
    kit.notice(note)
if compare:
    st.caption("Side by side, each list shows its movies' scores and fans (how many liked them); turn the comparison "
               "off for the picks each ALS recommendation came from and its genres.")
for column, (method, shown) in zip(st.columns(len(results)), results.items()):
    with column:
        st.subheader(demo.METHOD_NAMES[method] if shown.method == method else
                     f"{demo.METHOD_NAMES[method]} → {demo.METHOD_NAMES[shown.method]}")
        rows = [{name: row[name] for name in COMPARED} if compare else row for row in demo.as_rows(recommender, shown)]
        # a table wraps its cells to the column, so the score stays in sight (a dataframe scrolled it away on a
        # phone); its values as the demo rounded them (a table pads floats to four decimals)
        st.table(pd.DataFrame(rows).style.format("{}"), hide_index=True)
        st.caption(f"Ran on **CPU** in {shown.seconds * 1e3:.1f} ms")
kit.download_json({m: demo.as_rows(recommender, r) for m, r in results.items()}, "recommendations.json")

st.header("Inside the model")
latent, pair, alike, quality, how = st.tabs(["Latent space map", "One user-movie pair", "Movies like this",
                                             "How good is it?", "How it works"])
with latent:
    st.caption("Every movie's vector, projected on the two directions along which the vectors vary most (PCA). "
               "Movies liked by the same people sit together. Red diamonds: your picks; gold circles: your "
               "recommendations. Hover for titles, drag to pan, scroll to zoom.")
    st.altair_chart(demo.latent_map_chart(demo.latent_map(recommender, result)), width="stretch")
with pair:
    if result.user_vector is None:
        st.info("Pick at least one movie someone liked to get your own vector.")
    else:
        movie = st.selectbox("A movie", result.items + picks, format_func=lambda m: demo.describe(catalogue, m))
        scored = demo.pair_vectors(recommender, result, movie)
        st.markdown(f"Your vector (folded in from your picks) and this movie's vector have {settings.factors} "
                    f"numbers each; the predicted preference is their dot product, **{scored['score']:.3f}**.")
        st.pyplot(demo.pair_figure(recommender, result, movie))
with alike:
    options = demo.pick_options(catalogue)
    seed = st.selectbox("Movies like", options, format_func=lambda m: demo.describe(catalogue, m),
                        index=options.index(demo.similar_seed(catalogue, picks)))
    try:
        similar = demo.similar_rows(recommender, seed)
    except InputError as error:  # a movie nobody liked: explain here, keep the rest of the page
        kit.notice(str(error))
    else:
        st.table(pd.DataFrame(similar).style.format("{}"), hide_index=True)
with quality:
    st.caption("20% of every user's likes are held out; each method is trained on the rest and ranks 10 movies "
               "per user. Takes a few seconds.")
    if st.button("Evaluate ALS and the baselines on held-out likes"):
        with kit.user_errors(), st.spinner("Fitting and scoring…"):
            metrics = demo.evaluate(catalogue, settings)
        st.table(pd.DataFrame([{"method": demo.METHOD_NAMES[m], **values} for m, values in metrics.items()])
                 .style.format("{}"), hide_index=True)
with how:
    st.markdown(demo.HOW_IT_WORKS)
