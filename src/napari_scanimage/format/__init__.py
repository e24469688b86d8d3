"""ScanImage file format: bytes in, plain Python values out.

``tiff`` reads BigTIFF headers and IFDs with small positioned reads, ``header``
decodes ScanImage's static block (FrameData and RoiGroups), ``matlab`` parses
the MATLAB literals that FrameData is written in, ``descriptions`` the per-page
frame text, and ``page_index`` finds every page of a file without walking every
IFD.  ``page_reader`` reads pages from local files (``pread``) or from objects in
remote storage (``remote``: fsspec range requests planned by ``ranges``, failures
turned into our errors by ``remote_errors``); ``urls`` tells URLs from paths and
lists objects.  Nothing here knows about fields, ROIs or napari.
"""
