"""Data: records, decoding, pace sampling, transforms, datasets, datamodules."""
