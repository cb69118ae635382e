"""Front-end helpers: Streamlit widgets the pages share, and the Gradio builder. Demos never import this."""
