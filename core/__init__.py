"""Front-end-agnostic plumbing shared by every demo: device, model cache, validation, media."""
