exampledir = $(docdir)/examples
dist_example_DATA = examples/nomaflow.toml examples/jobs.d/demo.toml
# The "API -> python -> sqlite" example: job, plugin and stand-in API data.
dist_example_DATA += examples/jobs.d/orders.toml
exampleshopdir = $(exampledir)/plugins/shop
dist_exampleshop_DATA = examples/plugins/shop/__init__.py \
	examples/plugins/shop/orders.py
exampleapidir = $(exampledir)/api
dist_exampleapi_DATA = examples/api/orders.json
systemdunitdir = $(prefix)/lib/systemd/system
nodist_systemdunit_DATA = nomaflowd.service
EXTRA_DIST += examples/nomaflowd.service.in
CLEANFILES += nomaflowd.service
nomaflowd.service: $(top_srcdir)/examples/nomaflowd.service.in Makefile
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' \
	    -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    $(top_srcdir)/examples/nomaflowd.service.in > $@

install-data-local:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/nomaflow/jobs.d
	if test ! -f $(DESTDIR)$(sysconfdir)/nomaflow/nomaflow.toml; then \
	    sed -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' \
	        -e 's|@policydir[@]|$(pkgdatadir)/policies|g' \
	        -e 's|@localstatedir[@]|$(localstatedir)|g' \
	        -e 's|@runstatedir[@]|$(runstatedir)|g' \
	        $(top_srcdir)/examples/nomaflow.toml.in \
	        > $(DESTDIR)$(sysconfdir)/nomaflow/nomaflow.toml; \
	fi
EXTRA_DIST += examples/nomaflow.toml.in
