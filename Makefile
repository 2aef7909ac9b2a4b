# tskey — the only build file. GNU make + pkg-config.
#   make            build ./tskey (installs missing Debian packages first when run as root)
#   make run        build, then serve on 127.0.0.1:8080 with ./tskey.db (demo account on first start)
#   make test       build, then unit tests (cmocka) and integration tests against the live server
#   make test SANITIZE=1   the same, with AddressSanitizer and UndefinedBehaviorSanitizer

CC       ?= cc
PKGS     := gsoapssl sqlite3 openssl libxml-2.0 jansson
BUILD    := build
GEN      := gen
DB       ?= tskey.db
LISTEN   ?= 127.0.0.1:8080

# Debian packages: what the build needs, and what the tests drive the server with.
DEB_BUILD := gcc make pkg-config gsoap libgsoap-dev libsqlite3-dev libssl-dev libxml2-dev libjansson-dev
DEB_TEST  := libcmocka-dev curl python3 python3-zeep python3-jsonschema python3-lxml libxml2-utils \
             php-cli php-soap nginx openssl

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
CPPFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$(GEN) -Isrc
CFLAGS_ALL = $(CPPFLAGS) $(OPT) $(HARDEN) $(PKG_CFLAGS)
LDLIBS     = $(PKG_LIBS) -lpthread

# gen/ from wsdl/: wsdl2h -c (C) -k (no mustUnderstand on our output headers), soapcpp2 server side.
GEN_SRC  := $(GEN)/soapC.c $(GEN)/soapServer.c
GEN_HDR  := $(GEN)/soapH.h $(GEN)/soapStub.h $(GEN)/TrackServiceSoap.nsmap
WSDL_C   := $(GEN)/wsdl_blob.c

SRC      := $(filter-out src/main.c,$(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=$(BUILD)/%.o)
GEN_OBJ  := $(BUILD)/soapC.o $(BUILD)/soapServer.o $(BUILD)/wsdl_blob.o $(BUILD)/nsmap.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test-deps run test clean
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

# The namespace table, defined once; libgsoap refers to it by name.
$(GEN)/nsmap.c: $(GEN_HDR)
	printf '#include "soapH.h"\n#include "TrackServiceSoap.nsmap"\n' > $@

# Generated code gets relaxed warnings, and only it.
$(BUILD)/nsmap.o: $(GEN)/nsmap.c $(GEN_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/soapC.o: $(GEN)/soapC.c $(GEN_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/soapServer.o: $(GEN)/soapServer.c $(GEN_HDR)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<
$(BUILD)/wsdl_blob.o: $(WSDL_C)
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS_ALL) -w -c -o $@ $<

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) $(GEN_HDR)
	@mkdir -p $(BUILD)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) $(WARN) -c -o $@ $<

$(BUILD)/libtskey.a: $(OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/main.o $(GEN_OBJ) $(BUILD)/libtskey.a
	$(CC) $(OPT) $(LDSAN) -o $@ $(BUILD)/main.o $(GEN_OBJ) $(BUILD)/libtskey.a $(LDLIBS)

# libgsoap calls back into the generated serializers: link them whole, not from the archive.
$(BUILD)/tests/%: tests/unit/%.c tests/unit/fixture.h $(GEN_OBJ) $(BUILD)/libtskey.a $(wildcard src/*.h)
	@mkdir -p $(BUILD)/tests
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) $(WARN) -Wno-missing-prototypes -o $@ $< $(GEN_OBJ) $(BUILD)/libtskey.a $(LDLIBS) $(LDSAN) -lcmocka

run: all
	./$(BIN) --db $(DB) serve --listen $(LISTEN)

# One summary line at the end: "N passed, N failed".
test: test-deps $(BIN) $(UNIT_BIN)
	@TSKEY_BIN=$(CURDIR)/$(BIN) sh tests/run.sh $(UNIT_BIN)

clean:
	rm -rf build build-san tskey $(GEN)/*.c $(GEN)/*.h $(GEN)/*.nsmap
