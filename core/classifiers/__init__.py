"""The classifier pages' side (Flower ID, Bike ID, Film-Star Lookalike): the registry of tasks,
their data sets, training and the model card, classifying, zero-shot CLIP, faces and Grad-CAM.
What every page shares (settings, device, errors, files, the Hub, set-up, status) stays in `core`.
"""
