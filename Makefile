# Builds isovm (VMM + embedded firmware), the guest test jobs and the unit tests.
# `make` builds everything; `make SAN=1` builds the same into build-san/ with ASan+UBSan.

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD   ?= build
SANFLAGS :=
endif

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla \
           -fstack-protector-strong -I. $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
# a GNU build ID in every binary: the Linux tier keys its snapshots by isovm's (lsnap_cache.c)
LDFLAGS += -Wl,--build-id=sha1
# jansson is linked statically: one shared library fewer to load at every launch.
LDLIBS  += -Wl,-Bstatic -ljansson -Wl,-Bdynamic
# libseccomp likewise (the VMM's own syscall filter, vmm/run/vmm_seccomp.c)
LDLIBS  += -Wl,-Bstatic -lseccomp -Wl,-Bdynamic
# SQLite, the tenant ledger (quota/ledger.c), statically like jansson: no loader work at launch
LDLIBS  += -Wl,-Bstatic -lsqlite3 -Wl,-Bdynamic -lm
# libslirp, the Linux tier's network (vmm/linux/lnet.c); its glib comes with it. pkg-config
# needs glib's .pc file (libglib2.0-dev), which the build does not otherwise need. The VMM
# references libslirp weakly (the static isovm lacks it), and --as-needed (Debian's default)
# counts no weak reference: the dynamic links ask for it explicitly.
SLIRP_LIBS := -Wl,--no-as-needed $(shell pkg-config --libs slirp 2>/dev/null || echo -lslirp) -Wl,--as-needed
LDLIBS  += $(SLIRP_LIBS)

# every folder of the VMM (docs/architecture.md: what each may include)
VMM_SRCS  := $(wildcard lib/*.c policy/*.c limits/*.c quota/*.c vmm/*/*.c jail/*.c pool/*.c cli/*.c devices/*.c devices/*/*.c devices/*/*/*.c)
VMM_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(VMM_SRCS))
# the hypercall tier's VMM filter as BPF, made at build time by tools/vsc_bpf_gen.c from the
# same table (vmm/run/vsc_bpf.c loads it: no filter built at each launch)
VSC_BPF_OBJ := $(BUILD)/gen/vsc_hypercall_bpf.o
VMM_OBJS  += $(VSC_BPF_OBJ)
LIB_OBJS  := $(filter-out $(BUILD)/cli/main.o,$(VMM_OBJS)) $(BUILD)/firmware/blob.o
ISOVM     := $(BUILD)/isovm
# isovm-hooks: isovm with the test-only hooks of lib/test_hooks.h live (tests only, never shipped)
ISOVM_HOOKS := $(BUILD)/isovm-hooks

.PHONY: all clean test check-san
all: $(ISOVM) $(ISOVM_HOOKS) guest unit init

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/tools/vsc_bpf_gen: $(BUILD)/tools/vsc_bpf_gen.o $(BUILD)/vmm/run/vmm_seccomp.o \
                           $(BUILD)/lib/log.o $(BUILD)/lib/test_hooks.o
	$(CC) $(LDFLAGS) -o $@ $^ -Wl,-Bstatic -lseccomp -Wl,-Bdynamic
$(BUILD)/gen/vsc_hypercall_bpf.c: $(BUILD)/tools/vsc_bpf_gen
	@mkdir -p $(dir $@)
	$< $@.tmp && mv $@.tmp $@
$(BUILD)/gen/vsc_hypercall_bpf.o: $(BUILD)/gen/vsc_hypercall_bpf.c vmm/run/vsc_bpf.h
	$(CC) $(CFLAGS) -c $< -o $@

# --- firmware: freestanding ring-0 stub, linked at ISOVM_FW_CODE_GPA, embedded in isovm ---
FW_CFLAGS := -nostdlib -ffreestanding -fno-pic -fno-pie -mno-red-zone -Ifirmware -D__ASSEMBLER__
$(BUILD)/firmware/firmware.o: firmware/firmware.S firmware/abi.h
	@mkdir -p $(dir $@)
	$(CC) $(FW_CFLAGS) -c $< -o $@
$(BUILD)/firmware/firmware.elf: $(BUILD)/firmware/firmware.o firmware/firmware.ld
	ld -nostdlib -static -T firmware/firmware.ld -o $@ $<
$(BUILD)/firmware/firmware.bin: $(BUILD)/firmware/firmware.elf
	objcopy -O binary $< $@
$(BUILD)/firmware/blob.o: firmware/blob.S $(BUILD)/firmware/firmware.bin
	$(CC) -c -DFW_BIN_PATH='"$(BUILD)/firmware/firmware.bin"' $< -o $@

# the Linux tier: the job file's writer (and its parser, which checks what it writes) and the
# embedded init (init/init.mk)
VMM_INIT_OBJS := $(BUILD)/init/job_file.o $(BUILD)/init/job_write.o $(BUILD)/init/blob.o
ifeq ($(SAN),1)
# ASan needs the dynamic loader: the sanitizer build's isovm is linked like isovm-slirp
$(ISOVM): $(VMM_OBJS) $(VMM_INIT_OBJS) $(BUILD)/firmware/blob.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
else
# isovm is static (PIE, so still at a random address): no dynamic loader at launch
# (docs/architecture.md#two-links-of-one-vmm). Debian ships libslirp and glib as shared
# libraries only, so the static isovm is linked without them (weak references, lnet_linked)
# and hands a Linux-tier job with endpoints to isovm-slirp: the same objects linked
# dynamically with libslirp.
ISOVM_SLIRP := $(BUILD)/isovm-slirp
all: $(ISOVM_SLIRP)
# (the linker's warning that SQLite's load_extension would need glibc's shared libraries is
# expected: isovm never loads SQLite extensions)
$(ISOVM): $(VMM_OBJS) $(VMM_INIT_OBJS) $(BUILD)/firmware/blob.o
	$(CC) $(LDFLAGS) -static-pie -o $@ $^ -ljansson -lseccomp -lsqlite3 -lm
$(ISOVM_SLIRP): $(VMM_OBJS) $(VMM_INIT_OBJS) $(BUILD)/firmware/blob.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
endif

$(BUILD)/hooks/test_hooks.o: lib/test_hooks.c lib/test_hooks.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DISOVM_TEST_HOOKS -c $< -o $@
$(ISOVM_HOOKS): $(filter-out $(BUILD)/lib/test_hooks.o,$(VMM_OBJS)) $(BUILD)/hooks/test_hooks.o \
                $(VMM_INIT_OBJS) $(BUILD)/firmware/blob.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

include guest/guest.mk
include tests/unit/unit.mk
include tests/fuzz/fuzz.mk
include init/init.mk
include bench/bench.mk

test: all
	./run-tests.sh

clean:
	rm -rf build build-san

-include $(VMM_OBJS:.o=.d)
# after every makefile above: unit.mk adds to UNIT_OBJS all along, and links init/ objects that
# are in no list (init/cgroup.o, init/modules_order.o, ...)
-include $(UNIT_OBJS:.o=.d) $(wildcard $(BUILD)/init/*.d) $(wildcard $(BUILD)/tools/*.d)
