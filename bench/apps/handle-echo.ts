/** Child of the handle-hop measurement: sends every handle it is given straight back. */
process.on('message', (message, handle) => {
  process.send?.(message, handle as never);
});
