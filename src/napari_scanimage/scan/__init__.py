"""Scan model: from a parsed header and page index to fields and arrays.

Vocabulary (as in atlab/scanreader, made explicit):

- *page*: one TIFF page, i.e. one channel of one scanned plane.
- *frame*: one time point of a field; for fast-Z stacks one volume.
- *depth*: one z-plane of the acquisition (``scanning_depths``).
- *ROI*: a ScanImage scanfield at one depth; mROI pages stack several ROIs
  vertically, separated by *fly-to lines* scanned while the mirrors move.
- *field*: a rectangle of output at one depth: one ROI, or several ROIs joined
  side by side (``join_contiguous``), after trims.

``layout`` maps (frame, depth, channel) to pages, ``placement`` and
``fields`` place ROIs in the page and in µm, ``joining`` groups touching ROIs,
``indexing`` resolves numpy keys, ``source`` holds the open files, and ``scan``
puts it together.  ``summary_images`` streams a field through ``running_sums``,
whose compiled kernel (``running_sums_kernel``, numba) shares ``sum_planes`` with
it and is also kept compiled ahead (``sums_library`` loads, ``sums_build`` builds).
"""
