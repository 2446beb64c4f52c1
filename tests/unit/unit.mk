# cmocka unit tests for host-side logic, plus the badelf generator; `make unit-run` builds and runs them.
# Test binaries link the code under test with tests/unit/fake_guest_mem.c, never with vmm/guest_mem.c.

UNIT_TESTS     := $(BUILD)/tests/test_elf $(BUILD)/tests/test_stack
UNIT_TOOLS     := $(BUILD)/tests/badelf
UNIT_LDLIBS    := -lcmocka
UNIT_FIXTURE   := $(BUILD)/tests/unit/elf_fixture.o
UNIT_FAKE_GMEM := $(BUILD)/tests/unit/fake_guest_mem.o
UNIT_OBJS      := $(BUILD)/tests/unit/test_elf.o $(BUILD)/tests/unit/test_stack.o \
                  $(UNIT_FIXTURE) $(UNIT_FAKE_GMEM) $(BUILD)/tests/tools/badelf.o

.PHONY: unit unit-run
unit: $(UNIT_TESTS) $(UNIT_TOOLS)

unit-run: unit
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done
	@rm -rf $(BUILD)/tests/badelf-out && mkdir -p $(BUILD)/tests/badelf-out
	@echo "== $(BUILD)/tests/badelf: $$($(BUILD)/tests/badelf $(BUILD)/tests/badelf-out | wc -l) files"

$(BUILD)/tests/test_elf: $(BUILD)/tests/unit/test_elf.o $(UNIT_FIXTURE) $(UNIT_FAKE_GMEM) \
                         $(BUILD)/vmm/elf_load.o $(BUILD)/vmm/stack_build.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/test_stack: $(BUILD)/tests/unit/test_stack.o $(BUILD)/vmm/stack_build.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(UNIT_LDLIBS)

$(BUILD)/tests/badelf: $(BUILD)/tests/tools/badelf.o $(UNIT_FIXTURE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^

-include $(UNIT_OBJS:.o=.d)
