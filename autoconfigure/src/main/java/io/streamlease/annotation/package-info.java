/**
 * Turns @StreamHandler methods into endpoints of the registry; nothing else.
 */
package io.streamlease.annotation;
