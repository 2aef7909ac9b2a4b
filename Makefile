# tskey — the only build file. GNU make + pkg-config.
#   make            build ./tskey (installs missing Debian packages first when run as root)
#   make run        build, then serve on 127.0.0.1:8080 with ./tskey.db (demo account on first start)
#   make test       build, then unit tests (cmocka) and integration tests against the live server
#   make test SANITIZE=1   the same, with AddressSanitizer and UndefinedBehaviorSanitizer
#   make install [PREFIX=/usr/local] [DESTDIR=]   the binary, the man page, the systemd unit and
#                          the sample configuration (kept if one is there)
#   make bench      load-test the live server with wrk against an nginx ceiling (tests/bench/)

CC       ?= cc
PKGS     := gsoapssl sqlite3 openssl libxml-2.0 jansson
BUILD    := build
GEN      := gen
DB       ?= tskey.db
LISTEN   ?= 127.0.0.1:8080

# Debian packages: what the build needs, and what the tests drive the server with (prometheus:
# its promtool checks GET /metrics; its service is not started by the tests).
DEB_BUILD := gcc make pkg-config gsoap libgsoap-dev libsqlite3-dev libssl-dev libxml2-dev libjansson-dev
DEB_TEST  := libcmocka-dev curl python3 python3-zeep python3-jsonschema python3-lxml libxml2-utils \
             php-cli php-soap nginx openssl chromium systemd man-db groff-base prometheus

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
HARDEN   := -fstack-protector-strong
ifdef SANITIZE
OPT      := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDSAN    := -fsanitize=address,undefined
BUILD    := build-san
BIN      := build-san/tskey
else
BIN      := tskey
OPT      := -O2 -g -D_FORTIFY_SOURCE=2
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# gSOAP's runtime. By default it is compiled in from Debian's gsoap source package (the version
# of the installed libgsoap-dev, fetched once into build/gsoap-src by tests/lib/gsoap-src.sh,
# never into the repository) without the id/href tables that document/literal never uses and
# that every request would clear and scan (tests/bench/PROFILE.md): ~30% less CPU a request.
# When that source cannot be had (no deb-src line), Debian's libgsoapssl is linked instead.
# GSOAP_LEAN=1 insists on the source, GSOAP_LEAN=0 links libgsoapssl. The two change struct soap:
# a build directory that switches is rebuilt whole ($(MODE_STAMP)).
GSOAP_LEAN ?= auto
GSOAP_DIR  :=
ifneq ($(GSOAP_LEAN),0)
GSOAP_DIR  := $(shell sh tests/lib/gsoap-src.sh build/gsoap-src)
ifeq ($(GSOAP_LEAN)$(GSOAP_DIR),1)
$(error GSOAP_LEAN=1: Debian's gsoap source package could not be fetched (apt-get source needs a deb-src line))
endif
endif
GSOAP_OBJ  :=
GSOAP_MODE := stock
ifneq ($(GSOAP_DIR),)
GSOAP_MODE := lean
GSOAP_OBJ  := $(BUILD)/stdsoap2.o $(BUILD)/dom.o
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -DWITH_NOIDREF -DSOAP_PTRHASH=32 \
             -DSOAP_IDHASH=19
PKG_LIBS   = $(filter-out -lgsoapssl,$(shell pkg-config --libs $(PKGS) 2>/dev/null)) -lz
endif
MODE_STAMP := $(BUILD)/gsoap-$(GSOAP_MODE).stamp
CPPFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$(GEN) -Isrc
CFLAGS_ALL = $(CPPFLAGS) $(OPT) $(HARDEN) $(PKG_CFLAGS)
LDLIBS     = $(PKG_LIBS) -lpthread

# gen/ from wsdl/: wsdl2h -c (C) -k (no mustUnderstand on our output headers), soapcpp2 server side.
GEN_SRC  := $(GEN)/soapC.c $(GEN)/soapServer.c
GEN_HDR  := $(GEN)/soapH.h $(GEN)/soapStub.h $(GEN)/TrackServiceSoap.nsmap
WSDL_C   := $(GEN)/wsdl_blob.c
CONSOLE_C := $(GEN)/console_blob.c
CONSOLE_FILES := src/console/index.html src/console/console.css src/console/console.js

SRC      := $(filter-out src/main.c,$(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/%.o)
GEN_OBJ  := $(BUILD)/soapC.o $(BUILD)/soapServer.o $(BUILD)/wsdl_blob.o $(BUILD)/console_blob.o \
            $(BUILD)/nsmap.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test-deps bench-deps run test bench clean install
all: deps $(BIN)

deps:
	@sh tests/lib/deb-install.sh $(DEB_BUILD)

test-deps: deps
	@sh tests/lib/deb-install.sh $(DEB_TEST)
	@command -v node >/dev/null && command -v npm >/dev/null || sh tests/lib/deb-install.sh nodejs npm

$(GEN)/trackservice.h: wsdl/TrackService.wsdl wsdl/typemap.dat
	@mkdir -p $(GEN)
	wsdl2h -c -k -t wsdl/typemap.dat -o $@ wsdl/TrackService.wsdl

$(GEN)/soapC.c $(GEN)/soapServer.c $(GEN)/soapH.h $(GEN)/soapStub.h $(GEN)/TrackServiceSoap.nsmap &: $(GEN)/trackservice.h
	soapcpp2 -c -S -L -x -d $(GEN) $(GEN)/trackservice.h

# The contracts are compiled in, so the binary serves exactly what it was built from.
$(WSDL_C): wsdl/TrackService.wsdl wsdl/openapi.json
	@mkdir -p $(GEN)
	{ echo '/* generated from wsdl/ by the Makefile */'; \
	  echo '#include <stddef.h>'; \
	  echo 'const unsigned char tsk_wsdl_data[] = {'; \
	  od -An -v -tx1 wsdl/TrackService.wsdl | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; \
	  echo 'const size_t tsk_wsdl_size = sizeof(tsk_wsdl_data) - 1;'; \
	  echo 'const unsigned char tsk_openapi_data[] = {'; \
	  od -An -v -tx1 wsdl/openapi.json | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; \
	  echo 'const size_t tsk_openapi_size = sizeof(tsk_openapi_data) - 1;'; } > $@

# The keys console (src/console/) is compiled in too: tsk_console_<file name>[] and _size.
$(CONSOLE_C): $(CONSOLE_FILES)
	@mkdir -p $(GEN)
	{ echo '/* generated from src/console/ by the Makefile */'; \
	  echo '#include <stddef.h>'; \
	  for f in $(CONSOLE_FILES); do \
	    v=tsk_console_$$(basename $$f | tr '.-' '__'); \
	    echo "const unsigned char $${v}[] = {"; \
	    od -An -v -tx1 $$f | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	    echo '0x00 };'; \
	    echo "const size_t $${v}_size = sizeof($${v}) - 1;"; \
	  done; } > $@

# The namespace table, defined once; libgsoap refers to it by name.
$(GEN)/nsmap.c: $(GEN_HDR)
	printf '#include "soapH.h"\n#include "TrackServiceSoap.nsmap"\n' > $@

# Generated code gets relaxed warnings, and only it.
$(BUILD)/nsmap.o: $(GEN)/nsmap.c $(GEN_HDR) $(MODE_STAMP)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/soapC.o: $(GEN)/soapC.c $(GEN_HDR) $(MODE_STAMP)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/soapServer.o: $(GEN)/soapServer.c $(GEN_HDR) $(MODE_STAMP)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/wsdl_blob.o: $(WSDL_C)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/console_blob.o: $(CONSOLE_C)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) $(GEN_HDR) $(MODE_STAMP)
	@mkdir -p $(BUILD)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) $(WARN) -c -o $@ $<

$(BUILD)/libtskey.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/main.o $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ)
	$(CC) $(OPT) $(LDSAN) -o $@ $(BUILD)/main.o $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ) \
	    $(LDLIBS)

$(MODE_STAMP):
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/gsoap-*.stamp
	@touch $@
	@echo "  gSOAP   $(GSOAP_MODE) runtime$(if $(GSOAP_DIR), from $(GSOAP_DIR))"
$(BUILD)/stdsoap2.o $(BUILD)/dom.o: $(BUILD)/%.o: $(GSOAP_DIR)/%.c $(MODE_STAMP)
	@mkdir -p $(BUILD)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -w -c -o $@ $<

# libgsoap calls back into the generated serializers: link them whole, not from the archive.
# A test that wraps a library call at the boundary names it in UNIT_LDWRAP.
$(BUILD)/tests/test_secret: UNIT_LDWRAP := -Wl,--wrap=EVP_MD_fetch
$(BUILD)/tests/%: tests/unit/%.c tests/unit/fixture.h $(MODE_STAMP) $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ) $(wildcard src/*.h)
	@mkdir -p $(BUILD)/tests
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) $(WARN) -Wno-missing-prototypes -o $@ $< $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ) $(LDLIBS) $(LDSAN) -lcmocka $(UNIT_LDWRAP)

run: all
	./$(BIN) --db $(DB) serve --listen $(LISTEN)

# One summary line at the end: "N passed, N failed".
# Under ASan a freed block waits in a 256 MB quarantine before it is reused, which the tests
# that bound the server's memory (10 MB bodies, three times each) read as growth: 16 MB here.
ifdef SANITIZE
TEST_ENV := ASAN_OPTIONS=$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}quarantine_size_mb=16
endif
test: test-deps $(BIN) $(UNIT_BIN)
	@$(TEST_ENV) TSKEY_BIN=$(CURDIR)/$(BIN) sh tests/run.sh $(UNIT_BIN)

# Install. The unit and the configuration are written with the installed paths.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR     := $(PREFIX)/bin
MANDIR     := $(PREFIX)/share/man
UNITDIR    := $(PREFIX)/lib/systemd/system
DOCDIR     := $(PREFIX)/share/doc/tskey
install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/tskey
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/tskey
	install -m 0644 man/tskey.1 $(DESTDIR)$(MANDIR)/man1/tskey.1
	sed -e 's|/usr/local/bin/tskey|$(BINDIR)/tskey|g' -e 's|/etc/tskey/|$(SYSCONFDIR)/tskey/|g' \
	    samples/systemd/tskey.service > $(DESTDIR)$(UNITDIR)/tskey.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tskey.service
	install -m 0644 samples/tskey.conf $(DESTDIR)$(DOCDIR)/tskey.conf.sample
	[ -e $(DESTDIR)$(SYSCONFDIR)/tskey/tskey.conf ] || \
	    install -m 0644 samples/tskey.conf $(DESTDIR)$(SYSCONFDIR)/tskey/tskey.conf

# ---- benchmark: tests/bench/ (README "Benchmark") ------------------------------------------------
#   make bench [GSOAP_LEAN=0] [BENCH_SECONDS=4] [BENCH_KEYS="1000 1000000"] [BENCH_CONNS="64 1000"]
#              [BENCH_OUT=tests/bench/RESULTS.md]
# Never fails on a timing; fails only when the server or nginx does not start or nothing answers.
DEB_BENCH := wrk nginx
bench-deps: deps
	@sh tests/lib/deb-install.sh $(DEB_BENCH)

$(BUILD)/bench/seed: tests/bench/seed.c $(MODE_STAMP) $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ) $(wildcard src/*.h)
	@mkdir -p $(BUILD)/bench
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) $(WARN) -o $@ $< $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ) $(LDLIBS) $(LDSAN)

bench: bench-deps $(BIN) $(BUILD)/bench/seed
	@TSKEY_BIN=$(CURDIR)/$(BIN) SEED_BIN=$(CURDIR)/$(BUILD)/bench/seed \
	    BENCH_BUILD="$(if $(filter-out auto,$(GSOAP_LEAN)),GSOAP_LEAN=$(GSOAP_LEAN) )$(if $(SANITIZE),SANITIZE=1)" \
	    BENCH_GSOAP="$(if $(filter lean,$(GSOAP_MODE)),compiled in lean from Debian's gsoap source,Debian's libgsoapssl)" \
	    /usr/bin/python3 tests/bench/bench.py

# The server under valgrind (memcheck) for a short integration run: any memory error or a
# definite/indirect leak makes it exit 99, which the harness's stop() reports as a failure.
VALGRIND_TESTS ?= test_rest test_soap test_parity test_http test_lifecycle.LifecycleTest
VALGRIND       := valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
                  --errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30
.PHONY: test-valgrind
test-valgrind: test-deps $(BIN)
	@sh tests/lib/deb-install.sh valgrind
	@TSKEY_BIN=$(CURDIR)/$(BIN) TSKEY_SERVE_WRAP="$(VALGRIND)" \
	    /usr/bin/python3 tests/integration/run.py $(VALGRIND_TESTS)

# Timing side channels, measured and reported (never a pass/fail): see tests/bench/timing.py.
.PHONY: bench-timing
bench-timing: all
	@/usr/bin/python3 tests/bench/timing.py --bin ./$(BIN)

clean:
	rm -rf build build-san tskey $(GEN)/*.c $(GEN)/*.h $(GEN)/*.nsmap

# ---- fuzzing: tests/fuzz/ (libFuzzer harnesses, corpora, replay) ----------------------------------
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="http json"]
#       build every harness with clang, libFuzzer, ASan and UBSan into build-fuzz/ and run each for
#       FUZZ_SECONDS on build-fuzz/corpus/<target> (a copy of tests/fuzz/corpus/<target>; what the
#       run finds stays there). Findings land in build-fuzz/crashes/.
#   make fuzz-replay [SANITIZE=1]
#       build the harnesses without libFuzzer ($(CC), -DREPLAY, against this build's objects) into
#       $(BUILD)/fuzz/ and run them once over the committed corpora.
# The project's objects are rebuilt with clang in build-fuzz/, from the same pkg-config flags:
# struct soap's layout depends on them. fuzz_http compiles src/server.c into itself, so server.o
# is left out of the fuzz links (and not pulled from libtskey.a by the replay's).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NAMES   := keyformat parsers json http framing
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(CPPFLAGS) -O1 -g $(FUZZ_SAN) $(PKG_CFLAGS)
FUZZ_OBJ     := $(filter-out $(FUZZ_BUILD)/server.o,$(SRC:src/%.c=$(FUZZ_BUILD)/%.o)) \
                $(GEN_OBJ:$(BUILD)/%=$(FUZZ_BUILD)/%) $(GSOAP_OBJ:$(BUILD)/%=$(FUZZ_BUILD)/%)
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_REPLAY  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/fuzz_%)
FUZZ_HDR     := tests/fuzz/fuzz.h $(wildcard src/*.h) $(GEN_HDR)
FUZZ_FLAGS   := -timeout=10 -print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-replay fuzz-clean
.SECONDARY: $(FUZZ_OBJ)
fuzz-build: $(FUZZ_BIN)

$(FUZZ_BUILD)/%.o: src/%.c $(wildcard src/*.h) $(GEN_HDR) $(MODE_STAMP)
	@mkdir -p $(FUZZ_BUILD)
	@echo "  CC      $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN) -c -o $@ $<
$(FUZZ_BUILD)/%.o: $(GEN)/%.c $(GEN_HDR) $(MODE_STAMP)
	@mkdir -p $(FUZZ_BUILD)
	@echo "  CC      $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c -o $@ $<
$(FUZZ_BUILD)/stdsoap2.o $(FUZZ_BUILD)/dom.o: $(FUZZ_BUILD)/%.o: $(GSOAP_DIR)/%.c $(MODE_STAMP)
	@mkdir -p $(FUZZ_BUILD)
	@echo "  CC      $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c -o $@ $<

# Only fuzz_http makes Login cheap by wrapping scrypt (see the file's top comment).
$(FUZZ_BUILD)/fuzz_http $(BUILD)/fuzz/fuzz_http: FUZZ_LDWRAP := -Wl,--wrap=EVP_PBE_scrypt
$(FUZZ_BUILD)/fuzz_http $(BUILD)/fuzz/fuzz_http: src/server.c

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) $(FUZZ_HDR)
	@echo "  CCLD    $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(WARN) -Itests/fuzz -o $@ $< $(FUZZ_OBJ) \
	    $(LDLIBS) $(FUZZ_LDWRAP)

fuzz: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)
	@mkdir -p $(FUZZ_BUILD)/crashes
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$t && cp tests/fuzz/corpus/$$t/* $(FUZZ_BUILD)/corpus/$$t/ || exit 1; \
	    dict=; [ -f tests/fuzz/fuzz_$$t.dict ] && dict=-dict=tests/fuzz/fuzz_$$t.dict; \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s on $(FUZZ_BUILD)/corpus/$$t"; \
	    $(FUZZ_BUILD)/fuzz_$$t $(FUZZ_FLAGS) $$dict -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t- $(FUZZ_BUILD)/corpus/$$t || exit 1; \
	done

# The replay binaries: the ordinary build's objects (so SANITIZE=1 gives sanitized replays).
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(GEN_OBJ) $(BUILD)/libtskey.a $(GSOAP_OBJ) $(FUZZ_HDR)
	@mkdir -p $(BUILD)/fuzz
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) $(WARN) -DREPLAY -Itests/fuzz -o $@ $< $(GEN_OBJ) $(BUILD)/libtskey.a \
	    $(GSOAP_OBJ) $(LDLIBS) $(LDSAN) $(FUZZ_LDWRAP)

fuzz-replay: $(FUZZ_REPLAY)
	@for t in $(FUZZ_NAMES); do $(BUILD)/fuzz/fuzz_$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz-clean:
	rm -rf $(FUZZ_BUILD) build/fuzz build-san/fuzz
