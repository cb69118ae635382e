"""The torch networks behind the demos.

They live apart from the demo modules so that importing the registry (the gallery home page)
never imports torch: each demo's loader imports its network when the model is first needed.
"""
