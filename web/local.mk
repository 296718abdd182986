# web/: the web UI's static files (no framework, no build step), compiled
# into nomaflowd as a C table by web/embed.sh (od and awk: nothing from
# the network at build time).  supervisor/webui.c serves them.
NF_WEB_ASSETS = $(top_srcdir)/web/app.js $(top_srcdir)/web/app.css
EXTRA_DIST += web/embed.sh web/app.js web/app.css
CLEANFILES += web/assets.c

web/assets.c: $(top_srcdir)/web/embed.sh $(NF_WEB_ASSETS)
	$(AM_V_GEN)$(MKDIR_P) web && \
	$(SHELL) $(top_srcdir)/web/embed.sh $(NF_WEB_ASSETS) >$@.tmp && \
	mv $@.tmp $@
