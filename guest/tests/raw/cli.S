/* cli in ring 3 with IOPL 0: #GP -> 139. */
#include "firmware/abi.h"
	.text
	.globl _start
_start:
	cli
	/* reached only if the instruction above was allowed */
	mov	$231, %eax	/* exit_group(0) */
	xor	%edi, %edi
	syscall
	hlt
