# isovm's init (init/): a static musl program, PID 1 of a Linux-tier guest, embedded in isovm by
# init/blob.S ($(INIT_BLOB): the symbols isovm_init_start and isovm_init_end, init/blob.h).
#
# $(BUILD)/init/isovm-init        the guest's init (stripped: it lives in the guest's RAM)
# $(BUILD)/init/isovm-init-test   the test build (init/seam.h): run by tests/init/run.sh as PID 1 of
#                                 a PID namespace on this host
# init/job_file.c and init/job_write.c are built for the host too (the VMM, the unit tests).
# Both binaries are checked: static, no PT_INTERP, no glibc symbol.

INIT_CC     ?= musl-gcc
INIT_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -I. -static
INIT_SRCS   := $(filter-out init/job_write.c,$(wildcard init/*.c))
INIT_HDRS   := $(wildcard init/*.h)
INIT        := $(BUILD)/init/isovm-init
INIT_TEST   := $(BUILD)/init/isovm-init-test
INIT_BLOB   := $(BUILD)/init/blob.o

.PHONY: init
init: $(INIT) $(INIT_TEST) $(INIT_BLOB)

# $(call init_check,FILE): fail (and delete FILE) unless it is a static program without glibc
define init_check
	@if readelf -lW $(1) | grep -q INTERP || readelf -sW $(1) | grep -q '@GLIBC_'; then \
	   echo "init.mk: $(1) is not a static musl program" >&2; rm -f $(1); exit 1; fi
endef

$(INIT): $(INIT_SRCS) $(INIT_HDRS)
	@mkdir -p $(dir $@)
	$(INIT_CC) $(INIT_CFLAGS) -Os -s $(INIT_SRCS) -o $@
	$(call init_check,$@)

$(INIT_TEST): $(INIT_SRCS) $(INIT_HDRS)
	@mkdir -p $(dir $@)
	$(INIT_CC) $(INIT_CFLAGS) -O1 -g -DISOVM_INIT_TEST $(INIT_SRCS) -o $@
	$(call init_check,$@)

$(INIT_BLOB): init/blob.S $(INIT)
	$(CC) -c -DINIT_BIN_PATH='"$(INIT)"' $< -o $@

# the emulation tests of the init (root and loop devices; SKIP without them)
.PHONY: init-test
init-test: $(INIT_TEST)
	BUILD=$(BUILD) ISOVM_INIT_TEST=$(CURDIR)/$(INIT_TEST) tests/init/run.sh
