// Walks JSONB binary containers in place, with the layout macros of utils/jsonb.h: no
// JsonbIterator, no JsonbValue, no allocation. An object's JEntries are all keys first (sorted
// by length, then bytes), then all values; offsets run over both in that order.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

struct JsonbItem {
    uint32 type;       // JENTRY_IS* bits
    const char *data;  // string bytes, or the int-aligned numeric / container
    uint32 len;        // bytes of the string, numeric or container
};

inline bool item_is_object(const JsonbItem &it)
{
    return it.type == JENTRY_ISCONTAINER &&
           JsonContainerIsObject(reinterpret_cast<const JsonbContainer *>(it.data));
}

class ObjectWalker {
public:
    explicit ObjectWalker(const JsonbContainer *c)
        : c_(c), count_(JsonContainerSize(c)),
          base_(reinterpret_cast<const char *>(&c->children[count_ * 2]))
    {
        // The keys' lengths add up to where the values start (getJsonbOffset would walk
        // back to the nearest stored offset; objects here are small, so this is the same walk,
        // done once and inlined).
        for (uint32 i = 0; i < count_; i++)
            JBE_ADVANCE_OFFSET(val_off_, c->children[i]);
        keys_len_ = val_off_;
    }
    uint32 size() const { return count_; }
    // All key bytes lie back to back at the start of the data area; the keys' JEntries hold
    // their lengths (together they identify the key set exactly).
    const char *key_bytes() const { return base_; }
    const JEntry *key_entries() const { return c_->children; }
    uint32 key_bytes_len() const { return keys_len_; }

    bool next(JsonbItem &key, JsonbItem &val)
    {
        if (i_ >= count_)
            return false;
        read(i_, key_off_, key);
        read(i_ + count_, val_off_, val);
        i_++;
        return true;
    }

private:
    void read(uint32 index, uint32 &offset, JsonbItem &out) const
    {
        JEntry je = c_->children[index];
        uint32 start = offset;
        JBE_ADVANCE_OFFSET(offset, je);
        out.type = je & JENTRY_TYPEMASK;
        // Numerics and containers start int-aligned; the JEntry length counts the padding.
        uint32 data_start = (out.type == JENTRY_ISNUMERIC || out.type == JENTRY_ISCONTAINER) ? INTALIGN(start) : start;
        out.data = base_ + data_start;
        out.len = offset - data_start;
    }

    const JsonbContainer *c_;
    uint32 count_;
    const char *base_;
    uint32 key_off_ = 0, val_off_ = 0, keys_len_ = 0, i_ = 0;
};

}  // namespace ducache::pg
