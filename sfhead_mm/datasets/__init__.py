"""Dataset helpers: validation of PoseDataset pickles, layouts, transforms."""
