/**
 * The few types that users of Stream Lease touch: the leased data stream handed to a handler, its checkpoint,
 * and the exceptions. Nothing here depends on Spring.
 */
package io.streamlease;
