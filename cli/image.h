/* `isovm image build|from-dir`: root file system images for the Linux tier, cached by their
 * inputs. */
#ifndef ISOVM_CLI_IMAGE_H
#define ISOVM_CLI_IMAGE_H

/* argv[0] is "image". 0 when the image was written, 125 on bad usage or any failure. */
int cmd_image(int argc, char **argv);

#endif
