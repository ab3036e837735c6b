// Package charts draws the pictures Stilstaan sends a person, such as the
// weekly look back at their mood and at how strong a feeling was before and
// after each exercise.
//
// Rendering is pure and deterministic: the same input gives the same PNG
// bytes, with the fonts embedded in gonum.org/v1/plot (Liberation Sans), so
// pictures look the same on every host. Texts, including month names, are
// written here per language (Dutch by default, English), never taken from the
// host's locale.
package charts
