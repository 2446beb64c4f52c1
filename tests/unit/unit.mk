# cmocka unit tests for host-side logic.
.PHONY: unit
unit:
