# Guest test jobs: built static with musl and glibc, non-PIE and static-PIE (owned by guest/).
#
# guest/tests/*.c      -> $(BUILD)/guest/NAME.{musl,musl-pie,glibc,glibc-pie}
# guest/tests/raw/*.S  -> $(BUILD)/guest/NAME.raw   (no libc; first instruction is the test)
#
# Every linked job is checked: non-PIE variants must be ET_EXEC, PIE variants ET_DYN, and none
# may have a PT_INTERP (a job that needs a dynamic loader cannot run in isovm).
#
# musl-gcc's specs file (Debian musl-tools 1.2.3) knows nothing of -static-pie: it links Scrt1.o
# and libc.so with an interpreter. The musl-pie variant is therefore linked by hand with rcrt1.o
# (musl's self-relocating start file) and -static -pie --no-dynamic-linker.
.PHONY: guest guest-clean

GUEST_SRC     := guest/tests
GUEST_OUT     := $(BUILD)/guest
GUEST_CC_MUSL ?= musl-gcc
GUEST_CC_GLIBC?= gcc
MUSL_LIBDIR   ?= /usr/lib/x86_64-linux-musl
GUEST_CFLAGS  := -O1 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -I$(GUEST_SRC) -I. \
                 -fno-stack-protector
GUEST_RAWFLAGS:= -nostdlib -static -no-pie -Wall -Wextra -Werror -I.
# extra compile+link flags of some jobs (per job name, any variant)
GUEST_PTHREAD := threads tlb_shootdown spin_threads threads_many blocker exec_test signal_test \
                 timer_test
guest_extra    = $(if $(filter $(GUEST_PTHREAD),$(basename $(notdir $@))),-pthread)

GUEST_NAMES   := $(notdir $(basename $(wildcard $(GUEST_SRC)/*.c)))
GUEST_RAW     := $(notdir $(basename $(wildcard $(GUEST_SRC)/raw/*.S)))
GUEST_HDRS    := $(wildcard $(GUEST_SRC)/*.h) firmware/abi.h
GUEST_VARIANTS:= musl musl-pie glibc glibc-pie
GUEST_BINS    := $(foreach v,$(GUEST_VARIANTS),$(GUEST_NAMES:%=$(GUEST_OUT)/%.$(v))) \
                 $(GUEST_RAW:%=$(GUEST_OUT)/%.raw)

# glibc-only jobs linked with a real library from Debian (guest/tests/glibc/NAME.c): SQLite
GUEST_GLIBC_ONLY := $(notdir $(basename $(wildcard $(GUEST_SRC)/glibc/*.c)))
GUEST_BINS    += $(GUEST_GLIBC_ONLY:%=$(GUEST_OUT)/%.glibc)

# Go programs (guest/tests/go/NAME.go) built by Debian's golang-go with CGO_ENABLED=0: static,
# no PT_INTERP; the build cache in $(BUILD) (a clean checkout needs no network: standard
# library only)
GUEST_GO      := $(notdir $(basename $(wildcard $(GUEST_SRC)/go/*.go)))
GUEST_BINS    += $(GUEST_GO:%=$(GUEST_OUT)/%.go)
GUEST_GOENV   := CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOFLAGS= GO111MODULE=off GOTOOLCHAIN=local \
                 GOCACHE=$(abspath $(BUILD))/go-cache GOPATH=$(abspath $(BUILD))/go-path

guest: $(GUEST_BINS)

# $(call guest_check,FILE,ELFTYPE) : fail (and delete FILE) unless it is of ELFTYPE with no PT_INTERP.
define guest_check
	@t=$$(readelf -h $(1) | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p'); \
	 if [ "$$t" != "$(2)" ]; then echo "guest.mk: $(1) is ELF type '$$t', want $(2)" >&2; rm -f $(1); exit 1; fi; \
	 if readelf -lW $(1) | grep -q 'INTERP'; then echo "guest.mk: $(1) has PT_INTERP (not static)" >&2; rm -f $(1); exit 1; fi
endef

$(GUEST_OUT)/%.musl: $(GUEST_SRC)/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC_MUSL) $(GUEST_CFLAGS) $(guest_extra) -static $< -o $@
	$(call guest_check,$@,EXEC)

$(GUEST_OUT)/%.musl-pie: $(GUEST_SRC)/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC_MUSL) $(GUEST_CFLAGS) $(guest_extra) -fPIE -static-pie -nostartfiles \
	    $(MUSL_LIBDIR)/rcrt1.o $(MUSL_LIBDIR)/crti.o $$($(GUEST_CC_GLIBC) -print-file-name=crtbeginS.o) \
	    $< $$($(GUEST_CC_GLIBC) -print-file-name=crtendS.o) $(MUSL_LIBDIR)/crtn.o \
	    -Wl,-static -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text -o $@
	$(call guest_check,$@,DYN)

$(GUEST_OUT)/%.glibc: $(GUEST_SRC)/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC_GLIBC) $(GUEST_CFLAGS) $(guest_extra) -static $< -o $@
	$(call guest_check,$@,EXEC)

$(GUEST_OUT)/%.glibc-pie: $(GUEST_SRC)/%.c $(GUEST_HDRS)
	@mkdir -p $(dir $@)
	$(GUEST_CC_GLIBC) $(GUEST_CFLAGS) $(guest_extra) -fPIE -static-pie $< -o $@
	$(call guest_check,$@,DYN)

# (the linker's warning that SQLite's load_extension would need glibc's shared libraries is
# expected: the job never loads an extension)
$(GUEST_OUT)/%.glibc: $(GUEST_SRC)/glibc/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC_GLIBC) $(GUEST_CFLAGS) -static $< -o $@ -lsqlite3 -lm
	$(call guest_check,$@,EXEC)

$(GUEST_OUT)/%.go: $(GUEST_SRC)/go/%.go
	@mkdir -p $(dir $@)
	$(GUEST_GOENV) go build -trimpath -o $@ $<
	$(call guest_check,$@,EXEC)

$(GUEST_OUT)/%.raw: $(GUEST_SRC)/raw/%.S firmware/abi.h
	@mkdir -p $(dir $@)
	$(GUEST_CC_GLIBC) $(GUEST_RAWFLAGS) $< -o $@
	$(call guest_check,$@,EXEC)

guest-clean:
	rm -rf $(GUEST_OUT)
