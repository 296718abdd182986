# python/: the runner module python steps run under (nomaflow-worker
# starts "python3 -I $(pkgdatadir)/python/nomaflow_runner.py").
nfpythondir = $(pkgdatadir)/python
dist_nfpython_DATA = python/nomaflow_runner.py
