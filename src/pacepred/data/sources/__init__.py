"""The dataset sources: readers of the real dataset layouts (docs/datasets.md, "Layouts read"), one file each.

A reader ("source") is built from ``data.source`` of a data config and answers
``records(stage) -> (list[VideoRecord], class names)`` for stage 'train' or 'test'; labels
are 0-based indices into the class names. Constructors do not touch the disk; ``records``
reads the split files and fails with a clear error: a missing root names the path and the
expected layout, a malformed line raises :class:`SplitFileError` naming the file and its
1-based line number. Whether each video decodes is the decoder's and the index's business
(:mod:`pacepred.data.decoding`, :mod:`pacepred.data.video_index`).

Layouts (``<root>`` is the reader's ``root``; folder names are constructor arguments)::

    UCF101Split       <root>/UCF-101/<Class>/v_<Class>_gXX_cYY.avi
                      <root>/ucfTrainTestlist/classInd.txt          "1 ApplyEyeMakeup" (1-based)
                      <root>/ucfTrainTestlist/trainlist0{1,2,3}.txt "ApplyEyeMakeup/v_...avi 1"
                      <root>/ucfTrainTestlist/testlist0{1,2,3}.txt  "ApplyEyeMakeup/v_...avi"
    HMDB51Split       <root>/hmdb51/<class>/<video>.avi
                      <root>/testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
                          "<video>.avi <id>", id 1 = train, 2 = test, 0 = unused
    Kinetics400Split  <root>/annotations/{train,val}.csv  "label,youtube_id,time_start,time_end,split"
                      <root>/{train,val}/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4  (per_class)
                      <root>/{train,val}/<youtube_id>_<start:06d>_<end:06d>.mp4          (flat)
    FolderSplit       <root>/<class>/<video>.{avi,mp4,mkv,webm,mov,...}
    FramesSplit       <root>/<frames_dir>/<Class>/<video>/frame000001.jpg ...
                      list files "<Class>/<video> <0-based label> <num_frames>"
"""

from pacepred.data.sources.folder import FolderSplit
from pacepred.data.sources.frames import FramesSplit
from pacepred.data.sources.hmdb51 import HMDB51Split
from pacepred.data.sources.kinetics import Kinetics400Split
from pacepred.data.sources.ucf101 import UCF101Split, read_class_index, read_ucf101_split

__all__ = ["FolderSplit", "FramesSplit", "HMDB51Split", "Kinetics400Split", "UCF101Split", "read_class_index",
           "read_ucf101_split"]
