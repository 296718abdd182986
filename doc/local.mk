dist_man_MANS += doc/nomaflowd.8 doc/nfctl.1 doc/nomaflow.toml.5 \
	doc/nomaflow-jobs.5 doc/nomaflow-policy.5
EXTRA_DIST += doc/PROTOCOL.md doc/DESIGN.md doc/RELIABILITY.md doc/API.md
