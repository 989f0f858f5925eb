// Apache.Arrow has its own Array; in this project Array means System.Array.
global using Array = System.Array;
