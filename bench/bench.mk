# Benchmarks: the KVM floor program, the getpid job and the capability read loop (run with bench/run.sh; bench/limits.sh
# uses the guest jobs spin and iowrite).
.PHONY: bench
bench: $(BUILD)/bench/floor $(BUILD)/bench/getpid_loop.musl $(BUILD)/bench/read_loop.musl $(ISOVM) guest
	BUILD=$(BUILD) bench/run.sh

# static: the floor pays no dynamic loader (issue 16: an honest floor)
$(BUILD)/bench/floor: bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -static -Wall -Wextra -Werror -o $@ $<

$(BUILD)/bench/getpid_loop.musl: bench/getpid_loop.c
	@mkdir -p $(dir $@)
	musl-gcc -static -O2 -Wall -Wextra -Werror -o $@ $<

$(BUILD)/bench/read_loop.musl: bench/read_loop.c firmware/abi.h
	@mkdir -p $(dir $@)
	musl-gcc -static -O2 -Wall -Wextra -Werror -I. -o $@ $<

# the socket round-trip client and echo server (bench/net.sh): static, native and as a job alike
$(BUILD)/bench/net_rr.musl: bench/net_rr.c
	@mkdir -p $(dir $@)
	musl-gcc -static -O2 -Wall -Wextra -Werror -o $@ $<
# the VMM seccomp filter's cost per host syscall, natively (bench/seccomp_cost.c)
$(BUILD)/bench/seccomp_cost: bench/seccomp_cost.c $(BUILD)/vmm/run/vmm_seccomp.o $(BUILD)/lib/log.o \
                             $(BUILD)/lib/test_hooks.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ -Wl,-Bstatic -lseccomp -Wl,-Bdynamic
