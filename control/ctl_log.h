/* SPDX-License-Identifier: Apache-2.0 */
/* Control's own path to the storage workers: appends to and scans of
 * partition logs (the __consumer_offsets partitions) from the control
 * thread, through a ring pair of its own (storage index core_count), so
 * that control never waits on a core's ring and a core never waits on
 * control. Completions run on the control thread from ctl_log_poll(),
 * never inside the call that started the operation. Internal to control/.
 * @thread control */
#ifndef CONTROL_CTL_LOG_H
#define CONTROL_CTL_LOG_H

#include <stdint.h>

struct ctl;

/* An append finished: error is KP_ERR_NONE once the batch is fsynced
 * (acks=all), base_offset its first offset (-1 on error). */
typedef void ctl_log_append_fn(void *arg, int16_t error, int64_t base_offset);

/* Append one record batch v2 (built by the caller, CRC set; malloc()ed and
 * taken over: freed after completion) to a partition of topic_id. done
 * always runs exactly once, later. */
void ctl_log_append(struct ctl *ctl, const uint8_t topic_id[16], int32_t partition,
		    uint8_t *batch, uint32_t len, ctl_log_append_fn *done, void *arg);

/* One record batch of a scan, as stored (base offset set, CRC checked by
 * storage on append; callers validate what they decode). */
typedef void ctl_log_batch_fn(void *arg, const uint8_t *batch, uint32_t len);
/* A scan finished: error KP_ERR_NONE when every batch up to end_offset
 * (the log end when the scan started) was delivered. */
typedef void ctl_log_scan_end_fn(void *arg, int16_t error, int64_t end_offset);

/* Read a partition from its log start to its log end at the time of the
 * call: batch for each record batch in offset order, then end once. */
void ctl_log_scan(struct ctl *ctl, const uint8_t topic_id[16], int32_t partition,
		  ctl_log_batch_fn *batch, ctl_log_scan_end_fn *end, void *arg);

/* Appends and scans in flight. */
uint32_t ctl_log_inflight(const struct ctl *ctl);

#endif
