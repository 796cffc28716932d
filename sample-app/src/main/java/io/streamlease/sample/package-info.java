/**
 * The Stream Lease sample application: session processing. Each session is a data stream of events ended by an
 * end marker; an entry-level {@code @StreamHandler} totals it and writes a fenced summary. With no Redis configured
 * it starts its own Redis and a demo producer.
 */
package io.streamlease.sample;
