/* memforget.h — forgetting what the interpreter allocates for hotpath's own hooks.
 *
 * Some allocations are made by CPython on hotpath's behalf before any hook of ours can
 * pause the tracker: the int of a sys.monitoring LINE event's line number (above 256)
 * or of an event's instruction offset, the frame object (and, for a Python trace
 * function, its locals dict) that 3.11 creates for every call while a trace function is
 * set, the argument tuple of an audited event while an audit hook is installed. The hook
 * that receives such an object forgets it: its block is dropped and its accounting undone
 * as if it had never been allocated.
 *
 * What is undone: the block leaves the live-block table (and sampled mode's filter); its
 * stack's and the totals' allocation count and bytes, the live count and bytes, and the
 * count of recorded blocks go back. The peak goes back to what it was before the block
 * when nothing else was allocated or freed (anywhere) since it was; otherwise the peak
 * stays as it is: it may have been reached with the block live, and cannot be un-reached.
 * A timeline point the sampler thread took in between may include the block.
 *
 * Which blocks can be forgotten: only the calling thread's newest recorded block that is
 * still live (hp_mem_recent, memstate.h), so a hook forgets what was allocated for it, newest
 * first, and never a block the program made earlier — an object reused from one of
 * CPython's free lists was not allocated for the hook and is not the newest record. (The
 * one case this rule gets wrong: a free-list object whose last real allocation was this
 * thread's newest recorded block, e.g. on 3.14+, where ints have a free list.) In sampled
 * mode a block that was not sampled was never recorded: nothing to forget; a sampled one
 * takes its weight (bytes and count it stood for) with it.
 *
 * The block of an object starts before the object where its type has a pre-header: the
 * GC header (PyObject_IS_GC) and, for types with a managed dict or weakref slot, two
 * pointers before that. Frames, ints, tuples and dicts have no managed pre-header.
 * Cost: a ring probe and one table lookup; nothing allocated.
 */
#ifndef HP_MEMFORGET_H
#define HP_MEMFORGET_H

#include "memstate.h"

/* GIL held. Forget `o` (for a dict: its keys table first, then the dict) when it is the
 * calling thread's newest recorded block. Returns the number of blocks forgotten (0-2). */
int hp_mem_forget_object(PyObject *o);

/* GIL held. Forget the block at `p` (not an object: e.g. a code object's line array) when
 * it is the calling thread's newest recorded block. 1 forgotten, 0 not. */
int hp_mem_forget_block(const void *p);

#endif /* HP_MEMFORGET_H */
