# Guest test jobs: built static with musl and glibc, non-PIE and static-PIE (owned by guest/).
.PHONY: guest
guest:
