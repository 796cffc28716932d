/**
 * Producing to Stream Lease: the template that announces data streams on a service's LBS. No Spring imports.
 */
package io.streamlease.core;
