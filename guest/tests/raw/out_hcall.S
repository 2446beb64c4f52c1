/* Ring 3 forging a hypercall: 32-bit out of a request-block GPA to the hypercall port. #GP -> 139. */
#include "firmware/abi.h"
	.text
	.globl _start
_start:
	mov	$ISOVM_PORT_HCALL, %dx
	mov	$ISOVM_HCBLOCK_GPA, %eax
	out	%eax, %dx
	/* reached only if the instruction above was allowed */
	mov	$231, %eax	/* exit_group(0) */
	xor	%edi, %edi
	syscall
	hlt
