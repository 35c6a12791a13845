"""Padmé padding (Nikitin et al., PETS 2019).

Objects are padded before encryption so their ciphertext length reveals at most O(log log n)
bits of the plaintext size; overhead is at most 12 %. The true size lives in the encrypted
catalog.
"""


def padme(length: int) -> int:
    """The padded length for a plaintext of `length` bytes."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1
    bits = exponent.bit_length()
    low = exponent - bits
    mask = (1 << low) - 1
    return (length + mask) & ~mask
