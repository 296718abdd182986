# ctl/: nfctl, the control client.  It speaks the control protocol and
# nothing else: it links only the core library (and jansson for --json).
bin_PROGRAMS += nfctl
nfctl_SOURCES = ctl/main.c ctl/conn.c ctl/fmt.c ctl/ctl.h
nfctl_CPPFLAGS = $(NF_BASE_CPPFLAGS) -I$(top_srcdir)/ctl
nfctl_LDADD = $(NF_CORE_LIBS) $(NF_JSON_LIBS)
