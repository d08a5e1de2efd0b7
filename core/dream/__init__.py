"""Dream a Stage: a zooming img2img loop through a list of prompts that returns to its start."""
