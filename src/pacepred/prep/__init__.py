"""Offline tools that prepare a dataset before training: transcode or extract frames
(:mod:`.prepare`, :mod:`.convert`), record what was made (:mod:`.manifest`) and index the videos
(:mod:`.index`). The training path does not import them."""
